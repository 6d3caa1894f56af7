//! [`CodecError`]: why a value could not be encoded or decoded.

use std::error::Error as StdError;
use std::fmt;

/// Why [`ValueCodec`](crate::ValueCodec) could not encode or decode a value.
///
/// ```
/// use pool_cache::{CodecErrorKind, ValueCodec};
///
/// let codec = ValueCodec::new();
/// let err = codec.decode::<u32>(b"not ours").unwrap_err();
/// assert_eq!(err.kind(), CodecErrorKind::Header);
/// ```
pub struct CodecError {
    kind: CodecErrorKind,
    message: String,
    source: Option<Box<dyn StdError + Send + Sync + 'static>>,
}

/// The kind of a [`CodecError`].
///
/// ```
/// use pool_cache::CodecErrorKind;
///
/// let k = CodecErrorKind::TypeVersion { expected: 2, found: 1 };
/// assert!(matches!(k, CodecErrorKind::TypeVersion { .. }));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CodecErrorKind {
    /// The value could not be serialized.
    Encode,
    /// The bytes are too short for a header, or do not start with this crate's magic byte.
    Header,
    /// The header's format version is one this build does not read.
    FormatVersion {
        /// The format this build reads.
        expected: u8,
        /// The format in the header.
        found: u8,
    },
    /// The value was written by another codec.
    CodecMismatch {
        /// This codec's id.
        expected: u8,
        /// The id in the header.
        found: u8,
    },
    /// The value was written for another version of the user's type.
    TypeVersion {
        /// The type version this codec expects.
        expected: u32,
        /// The version in the header.
        found: u32,
    },
    /// The compressed body is damaged or would decompress past the size limit.
    Decompress,
    /// The body does not deserialize into the requested type.
    Decode,
}

impl CodecError {
    pub(crate) fn new(kind: CodecErrorKind, message: impl Into<String>) -> Self {
        Self { kind, message: message.into(), source: None }
    }

    pub(crate) fn with_source(
        kind: CodecErrorKind,
        message: impl Into<String>,
        source: impl StdError + Send + Sync + 'static,
    ) -> Self {
        Self { kind, message: message.into(), source: Some(Box::new(source)) }
    }

    /// What went wrong.
    ///
    /// ```
    /// use pool_cache::{CodecErrorKind, ValueCodec};
    ///
    /// let bytes = ValueCodec::new().type_version(1).encode(&7u32)?;
    /// let err = ValueCodec::new().type_version(2).decode::<u32>(&bytes).unwrap_err();
    /// assert_eq!(err.kind(), CodecErrorKind::TypeVersion { expected: 2, found: 1 });
    /// # Ok::<(), pool_cache::CodecError>(())
    /// ```
    #[must_use]
    pub fn kind(&self) -> CodecErrorKind {
        self.kind
    }
}

impl fmt::Debug for CodecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CodecError")
            .field("kind", &self.kind)
            .field("message", &self.message)
            .field("source", &self.source)
            .finish()
    }
}

impl fmt::Display for CodecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl StdError for CodecError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source.as_deref().map(|s| s as &(dyn StdError + 'static))
    }
}
