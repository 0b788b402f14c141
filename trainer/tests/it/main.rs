//! Integration tests of the trainer (one binary): the CPU proof that the whole path works
//! at tiny sizes on the ndarray backend with autodiff.

mod cli;
mod common;
mod dial;
mod gguf;
mod import;
mod parallel;
mod reader;
mod sees_image;
mod shards;
mod training;
mod vision_init;
