use postcard::de_flavors::Flavor;

/// The fewest bytes left per claimed element for a list's room to be reserved up front.
pub(super) const BYTES_PER_RESERVED_ELEMENT: usize = 16;

/// The bytes of one received frame, read by postcard so that a length the sender claims
/// cannot make the decoder reserve much more memory than the frame's bytes.
///
/// Before decoding a list, serde reserves room for the claimed number of elements, up to
/// the size hint of the reader (and at most 1 MiB). postcard's own slice reader hints the
/// bytes left, so a frame of a few KiB that claims one element per byte, then breaks off,
/// briefly costs up to 1 MiB for each list it opens — the in-memory element is 24 to 80
/// bytes. This reader hints one element per [`BYTES_PER_RESERVED_ELEMENT`] bytes left:
/// a list claiming more than that is not reserved at all and grows as its elements
/// actually decode, and what can be reserved is at most 80 / 16 = 5 times the bytes
/// left. Honest lists of elements that take 16 bytes or more on the wire (digest entries,
/// deltas) are still reserved exactly.
pub(super) struct FrameInput<'de> {
    rest: &'de [u8],
}

impl<'de> FrameInput<'de> {
    pub(super) fn new(bytes: &'de [u8]) -> Self {
        Self { rest: bytes }
    }
}

impl<'de> Flavor<'de> for FrameInput<'de> {
    type Remainder = &'de [u8];
    type Source = &'de [u8];

    fn pop(&mut self) -> postcard::Result<u8> {
        let (&byte, rest) = self
            .rest
            .split_first()
            .ok_or(postcard::Error::DeserializeUnexpectedEnd)?;
        self.rest = rest;
        Ok(byte)
    }

    /// Never `None`: postcard then trusts the claimed length. A claim above the hint is
    /// given no reservation.
    fn size_hint(&self) -> Option<usize> {
        Some(self.rest.len() / BYTES_PER_RESERVED_ELEMENT)
    }

    fn try_take_n(&mut self, count: usize) -> postcard::Result<&'de [u8]> {
        let (taken, rest) = self
            .rest
            .split_at_checked(count)
            .ok_or(postcard::Error::DeserializeUnexpectedEnd)?;
        self.rest = rest;
        Ok(taken)
    }

    fn finalize(self) -> postcard::Result<&'de [u8]> {
        Ok(self.rest)
    }
}
