//! PixMo-Cap and PixMo-CapQA.

pub mod inbox;
