//! Typed values across the byte-only L2: a [`Codec`] under a small versioned header.

mod error;
mod format;
mod value;

pub use error::{CodecError, CodecErrorKind};
pub use format::{Codec, Json, Postcard};
pub use value::{
    CODEC_HEADER_LEN, DEFAULT_COMPRESS_THRESHOLD, DEFAULT_MAX_DECODED_SIZE, ValueCodec,
};
