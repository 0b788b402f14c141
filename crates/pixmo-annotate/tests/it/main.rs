//! Integration tests of the annotation app: real servers on loopback, real databases
//! (SQLite always; PostgreSQL when `PIXMO_TEST_POSTGRES_URL` is set), real processes.

mod common;

mod ama;
mod browser;
mod crash;
mod explain;
mod http;
mod import;
mod llama;
mod migrations;
mod python;
mod queue;
