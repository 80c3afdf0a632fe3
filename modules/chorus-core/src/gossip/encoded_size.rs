//! Sizes of values in postcard encoding, to bound messages before encoding them.

use crate::topology::MemberId;

/// Bytes of a postcard varint holding `value`.
pub(crate) fn varint(value: u64) -> usize {
    let bits = 64 - (value | 1).leading_zeros() as usize;
    bits.div_ceil(7)
}

/// Bytes of a length-prefixed byte string of `len` bytes.
pub(crate) fn bytes(len: usize) -> usize {
    varint(len as u64) + len
}

/// Bytes of an encoded [`MemberId`].
pub(crate) fn member_id(id: &MemberId) -> usize {
    bytes(id.name().len()) + varint(id.incarnation())
}

#[cfg(test)]
mod tests {
    use alloc::string::String;
    use alloc::vec;

    use super::{bytes, member_id, varint};
    use crate::topology::MemberId;

    #[test]
    fn sizes_match_postcard() {
        for v in [0u64, 1, 127, 128, 16_383, 16_384, u64::MAX] {
            assert_eq!(varint(v), postcard::to_allocvec(&v).unwrap().len(), "{v}");
        }
        let s = String::from("hello");
        assert_eq!(bytes(s.len()), postcard::to_allocvec(&s).unwrap().len());
        let v = vec![7u8; 300];
        assert_eq!(bytes(v.len()), postcard::to_allocvec(&v).unwrap().len());
        let id = MemberId::new("node-17", 1_732_000_000_000);
        assert_eq!(member_id(&id), postcard::to_allocvec(&id).unwrap().len());
    }
}
