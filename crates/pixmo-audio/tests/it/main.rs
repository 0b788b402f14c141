//! pixmo-audio against real files: fixtures made by real encoders (`tests/fixtures/make.sh`:
//! SoX, LAME, libvorbis, libFLAC, espeak-ng) and WAV files written here.

mod decode;
mod reject;
mod wav;
