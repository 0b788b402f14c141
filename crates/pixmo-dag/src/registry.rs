//! The stage registry: stage kind -> factory. Each pipeline crate exports a
//! `register(&mut StageRegistry)`; the CLI calls them all in one visible list.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::de::DeserializeOwned;

use crate::stage::Stage;

/// A typed stage configuration that builds a runtime [`Stage`].
pub trait StageConfig: DeserializeOwned + serde::Serialize + 'static {
    /// Stable namespaced kind, such as `clocks.render`.
    const KIND: &'static str;
    /// One line for `pixmo stages`.
    const SUMMARY: &'static str;
    /// Validates the config and builds the stage.
    ///
    /// # Errors
    /// A [`ConfigError`] naming the bad field (`Err("`x` must be at least 1".into())`).
    fn build(&self) -> Result<Arc<dyn Stage>, ConfigError>;
}

/// Why a stage refused its configuration. Messages name the field in backticks and read
/// as a user mistake: "`image_size` is 10; it must be between 64 and 2048".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The TOML table does not fit the config type: an unknown or missing field, a wrong
    /// type (serde's message).
    #[error("{message}")]
    Shape {
        /// The deserializer's message, naming the field.
        message: String,
    },
    /// The stage refused a value.
    #[error("{message}")]
    Value {
        /// What is wrong, naming the field.
        message: String,
    },
    /// The stage could not set up what it needs (a model file, a cache folder, a client).
    #[error("{message}")]
    Setup {
        /// What failed.
        message: String,
    },
}

impl ConfigError {
    /// A refused value.
    pub fn value(message: impl Into<String>) -> ConfigError {
        ConfigError::Value {
            message: message.into(),
        }
    }

    /// A failed setup (model, cache, client).
    pub fn setup(message: impl Into<String>) -> ConfigError {
        ConfigError::Setup {
            message: message.into(),
        }
    }

    /// The field the message names (its first `` `identifier` ``), if any.
    #[must_use]
    pub fn field(&self) -> Option<&str> {
        let (ConfigError::Shape { message }
        | ConfigError::Value { message }
        | ConfigError::Setup { message }) = self;
        let rest = &message[message.find('`')? + 1..];
        Some(&rest[..rest.find('`')?])
    }
}

/// Stages write `Err("...".into())` and `Err(format!(...).into())`: a refused value.
impl From<String> for ConfigError {
    fn from(message: String) -> ConfigError {
        ConfigError::value(message)
    }
}

impl From<&str> for ConfigError {
    fn from(message: &str) -> ConfigError {
        ConfigError::value(message)
    }
}

/// A built stage with its resolved configuration (defaults filled in) as canonical JSON.
pub struct BuiltStage {
    /// The runtime stage.
    pub stage: Arc<dyn Stage>,
    /// Canonical JSON of the resolved config; hashed into provenance.
    pub resolved_config: String,
}

type BuildFn = fn(toml::Value) -> Result<BuiltStage, ConfigError>;

/// How to build one stage kind.
#[derive(Clone, Copy)]
pub struct StageFactory {
    /// Stage kind.
    pub kind: &'static str,
    /// One-line description.
    pub summary: &'static str,
    build: BuildFn,
}

impl std::fmt::Debug for StageFactory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StageFactory")
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

fn build_typed<C: StageConfig>(config: toml::Value) -> Result<BuiltStage, ConfigError> {
    let config: C = config
        .try_into()
        .map_err(|e: toml::de::Error| ConfigError::Shape {
            message: e.message().to_string(),
        })?;
    let resolved_config = pixmo_core::canonical_json(&config);
    Ok(BuiltStage {
        stage: config.build()?,
        resolved_config,
    })
}

impl StageFactory {
    /// The factory of a typed config.
    #[must_use]
    pub fn of<C: StageConfig>() -> StageFactory {
        StageFactory {
            kind: C::KIND,
            summary: C::SUMMARY,
            build: build_typed::<C>,
        }
    }

    /// Builds the stage from its TOML config table.
    ///
    /// # Errors
    /// When the config does not deserialize or the stage refuses it.
    pub fn build(&self, config: toml::Value) -> Result<BuiltStage, ConfigError> {
        (self.build)(config)
    }
}

/// All stage kinds a pipeline may use.
#[derive(Debug, Default)]
pub struct StageRegistry {
    factories: BTreeMap<&'static str, StageFactory>,
}

impl StageRegistry {
    /// An empty registry.
    #[must_use]
    pub fn new() -> StageRegistry {
        StageRegistry::default()
    }

    /// Registers a typed stage config under its kind.
    pub fn register<C: StageConfig>(&mut self) {
        self.factories.insert(C::KIND, StageFactory::of::<C>());
    }

    /// The factory for a kind.
    #[must_use]
    pub fn get(&self, kind: &str) -> Option<&StageFactory> {
        self.factories.get(kind)
    }

    /// Every registered factory, sorted by kind.
    pub fn iter(&self) -> impl Iterator<Item = &StageFactory> {
        self.factories.values()
    }

    /// The registered kind closest to `kind`, for "did you mean" hints.
    #[must_use]
    pub fn nearest(&self, kind: &str) -> Option<&'static str> {
        nearest(kind, self.factories.keys().copied())
    }
}

/// The candidate closest to `name` by Jaro-Winkler similarity, if it is reasonably close.
pub fn nearest<'a>(name: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .map(|c| (strsim::jaro_winkler(name, c), c))
        .filter(|(score, _)| *score > 0.7)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}
