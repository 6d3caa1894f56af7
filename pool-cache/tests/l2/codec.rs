//! The value codec: round trips, mismatches as counted misses, and no panic on any bytes.

use pool_cache::{CODEC_HEADER_LEN, CodecErrorKind, Json, ValueCodec};
use proptest::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Order {
    id: u64,
    items: Vec<String>,
    note: Option<String>,
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
enum Loose {
    Num(u64),
    Text(String),
}

#[test]
fn json_carries_what_postcard_cannot() {
    let json = ValueCodec::with_codec(Json);
    let v = serde_json::json!({"a": 1, "b": [true, null]});
    assert_eq!(json.decode::<serde_json::Value>(&json.encode(&v).unwrap()).unwrap(), v);
    assert_eq!(
        json.decode::<Loose>(&json.encode(&Loose::Text("x".into())).unwrap()).unwrap(),
        Loose::Text("x".into())
    );
    // postcard writes such a value but cannot read it back: a typed error, never garbage.
    let postcard = ValueCodec::new();
    let err = postcard.decode::<serde_json::Value>(&postcard.encode(&v).unwrap()).unwrap_err();
    assert_eq!(err.kind(), CodecErrorKind::Decode);
}

#[test]
fn header_overhead_is_the_header_only() {
    let order = Order { id: 7, items: vec!["a".into(); 3], note: None };
    let raw = postcard::to_allocvec(&order).unwrap();
    let ours = ValueCodec::new().encode(&order).unwrap();
    assert_eq!(ours.len(), raw.len() + CODEC_HEADER_LEN);
    assert_eq!(&ours[CODEC_HEADER_LEN..], raw.as_slice());
}

#[test]
fn a_type_version_bump_reads_as_a_counted_miss() {
    let v1 = ValueCodec::new().type_version(1);
    let v2 = ValueCodec::new().type_version(2);
    let bytes = v1.encode(&Order { id: 1, items: vec![], note: None }).unwrap();
    assert_eq!(v2.read::<Order>(&bytes), None);
    assert_eq!(v2.read::<Order>(&bytes), None);
    assert_eq!(v2.decode_errors(), 2);
    assert_eq!(v1.decode_errors(), 0);
}

proptest! {
    #[test]
    fn round_trips_with_and_without_compression(
        id in any::<u64>(),
        items in proptest::collection::vec("[a-c]{0,40}", 0..80),
        note in proptest::option::of(".{0,20}"),
        threshold in proptest::option::of(0usize..2048),
    ) {
        let order = Order { id, items, note };
        let codec = ValueCodec::new().compress_above(threshold);
        let bytes = codec.encode(&order).unwrap();
        prop_assert_eq!(codec.decode::<Order>(&bytes).unwrap(), order.clone());
        let json = ValueCodec::with_codec(Json).compress_above(threshold);
        prop_assert_eq!(json.decode::<Order>(&json.encode(&order).unwrap()).unwrap(), order.clone());
    }

    #[test]
    fn any_bytes_decode_to_an_error_or_a_value_never_a_panic(
        bytes in proptest::collection::vec(any::<u8>(), 0..300),
        keep_header in any::<bool>(),
    ) {
        let codec = ValueCodec::new().max_decoded_size(1 << 16);
        let mut input = bytes;
        if keep_header && input.len() >= CODEC_HEADER_LEN {
            // A valid header over random bytes (compressed or not) exercises the body paths.
            let header = codec.encode(&0u8).unwrap();
            input[..CODEC_HEADER_LEN].copy_from_slice(&header[..CODEC_HEADER_LEN]);
            input[3] = input[CODEC_HEADER_LEN.min(input.len() - 1)] & 1;
        }
        let before = codec.decode_errors();
        let read = codec.read::<Order>(&input);
        prop_assert_eq!(codec.decode_errors() - before, u64::from(read.is_none()));
    }
}
