//! What a dataset is, in words: prose its pipeline crate writes for the card.

/// Prose about one dataset, written beside its pipeline (`pipelines/<crate>/src/card.rs`).
///
/// ```
/// use pixmo_card::About;
///
/// const ABOUT: About = About {
///     how_made: "Every image is procedurally rendered",
///     limitations: &["Shapes are synthetic."],
///     ..About::new("PixMo-Shapes", "PixMo-Shapes holds rendered shapes with exact counts.")
/// };
/// # assert_eq!(ABOUT.license, "apache-2.0");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct About {
    /// Name of the released dataset this rebuilds (`PixMo-Clocks`).
    pub pretty_name: &'static str,
    /// What the dataset is (a paragraph).
    pub summary: &'static str,
    /// How the images were made, as the start of a sentence ("Every image is procedurally
    /// rendered"); the card goes on with "and no vision-language model saw any image".
    pub how_made: &'static str,
    /// Dataset-specific limitations (bullets).
    pub limitations: &'static [&'static str],
    /// The Hugging Face `license` of the rows.
    pub license: &'static str,
    /// Licence notes (bullets under "Licence"; none gives no section): fonts, sources.
    pub license_notes: &'static [&'static str],
}

impl About {
    /// Prose with the defaults: images "come from the sources recorded in each row", no
    /// limitations beyond the card's own, `apache-2.0`, no licence notes.
    #[must_use]
    pub const fn new(pretty_name: &'static str, summary: &'static str) -> About {
        About {
            pretty_name,
            summary,
            how_made: "Images come from the sources recorded in each row",
            limitations: &[],
            license: "apache-2.0",
            license_notes: &[],
        }
    }
}
