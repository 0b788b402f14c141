//! The crate's error type.

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What can be wrong with candidates or with a tool's file.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A candidate cannot be exported.
    #[error("Candidate `{image_id}`: {message}")]
    Candidate {
        /// The candidate's image id.
        image_id: String,
        /// What is wrong.
        message: String,
    },
    /// A Label Studio or COCO file is not JSON.
    #[error("The export is not valid JSON")]
    Json {
        /// The parser's error (with line and column).
        #[source]
        source: serde_json::Error,
    },
    /// The CVAT file is not well-formed XML.
    #[error("CVAT XML is malformed near byte {position}: {message}")]
    Xml {
        /// Byte offset in the file.
        position: u64,
        /// The parser's message.
        message: String,
    },
    /// A well-formed file whose content is not what the format or the export promised.
    #[error("{tool} export, {at}: {message}")]
    Invalid {
        /// `Label Studio` or `CVAT`.
        tool: &'static str,
        /// Where: task, annotation and result ids, or the XML element.
        at: String,
        /// What is wrong.
        message: String,
    },
}
