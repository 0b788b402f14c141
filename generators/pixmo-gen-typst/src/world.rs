//! A sandboxed typst [`World`]: one in-memory source, the bundled fonts, nothing else.
//!
//! Every file or package access (`read`, `image`, `json`, `import "x.typ"`, `@preview/...`,
//! `plugin`, `bibliography`) fails with `FileError::AccessDenied`, so untrusted source cannot
//! read the host's files or reach the network. `datetime.today()` returns `none`-backed errors
//! rather than the wall clock, which keeps renders deterministic.

use std::sync::OnceLock;

use typst::diag::{FileError, FileResult};
use typst::foundations::{Bytes, Datetime, Duration};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World};

use crate::fonts::font_set;

/// The standard library, built once per process.
fn library() -> &'static LazyHash<Library> {
    static LIBRARY: OnceLock<LazyHash<Library>> = OnceLock::new();
    LIBRARY.get_or_init(|| LazyHash::new(Library::default()))
}

/// The id of the only file: `/main.typ` in the project root.
pub(crate) fn main_id() -> FileId {
    static ID: OnceLock<FileId> = OnceLock::new();
    *ID.get_or_init(|| {
        let path = VirtualPath::new("/main.typ").expect("`/main.typ` is a valid virtual path");
        RootedPath::new(VirtualRoot::Project, path).intern()
    })
}

/// A world with exactly one source file and the bundled fonts.
pub(crate) struct SandboxWorld {
    source: Source,
}

impl SandboxWorld {
    pub(crate) fn new(text: String) -> SandboxWorld {
        SandboxWorld {
            source: Source::new(main_id(), text),
        }
    }

    pub(crate) fn source_ref(&self) -> &Source {
        &self.source
    }
}

impl World for SandboxWorld {
    fn library(&self) -> &LazyHash<Library> {
        library()
    }

    fn book(&self) -> &LazyHash<FontBook> {
        &font_set().book
    }

    fn main(&self) -> FileId {
        self.source.id()
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        if id == self.source.id() {
            Ok(self.source.clone())
        } else {
            Err(FileError::AccessDenied)
        }
    }

    fn file(&self, id: FileId) -> FileResult<Bytes> {
        if id == self.source.id() {
            Ok(Bytes::from_string(self.source.clone()))
        } else {
            Err(FileError::AccessDenied)
        }
    }

    fn font(&self, index: usize) -> Option<Font> {
        font_set().fonts.get(index).cloned()
    }

    fn today(&self, _offset: Option<Duration>) -> Option<Datetime> {
        None
    }
}
