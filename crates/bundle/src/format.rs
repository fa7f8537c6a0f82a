//! The on-disk layout of a segment: header, frames, footer, trailer. `FORMAT.md` beside this
//! crate is the prose version of this module; keep the two in step.

use crate::record::Level;

/// First bytes of every segment file.
pub const SEGMENT_MAGIC: [u8; 8] = *b"TRAWLSEG";
/// Last bytes of every sealed segment file.
pub const TRAILER_MAGIC: [u8; 8] = *b"TRAWLEND";
/// The format version this crate writes and reads.
pub const FORMAT_VERSION: u16 = 1;
/// Size of the segment header.
pub const HEADER_LEN: usize = 64;
/// Size of a frame header.
pub const FRAME_HEADER_LEN: usize = 24;
/// Size of the trailer that ends a sealed segment.
pub const TRAILER_LEN: usize = 16;
/// The largest stored frame payload a reader accepts. Bounds reader memory; the writer never
/// writes a frame this large.
pub const MAX_FRAME_PAYLOAD: usize = 64 << 20;

/// Masks a CRC the LevelDB way, so a CRC of data that embeds CRCs stays strong.
pub fn mask_crc(crc: u32) -> u32 {
    crc.rotate_right(15).wrapping_add(0xa282_ead8)
}

/// 128-bit identity of a writer (a bundle's producer), random at creation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct WriterId(pub u128);

impl std::fmt::Display for WriterId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:032x}", self.0)
    }
}

/// What a segment says about itself in its first [`HEADER_LEN`] bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SegmentHeader {
    pub writer_id: WriterId,
    /// Position of this segment in its writer's sequence of segments, from 1.
    pub segment_seq: u64,
    /// Random per segment; mixed into every frame CRC, so bytes from another segment (a reused
    /// or preallocated file, a stale copy) never validate here.
    pub salt: u64,
    /// Sequence number of the first record this segment holds (or would hold).
    pub first_record_seq: u64,
    /// Creation time, nanoseconds since the Unix epoch.
    pub created_nanos: i64,
}

/// Why a segment header is not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    #[error("file is shorter than a segment header ({0} of {HEADER_LEN} bytes)")]
    Short(usize),
    #[error("not a trawl segment (magic {0:02x?})")]
    Magic([u8; 8]),
    #[error("segment format version {0} is not supported (this build reads {FORMAT_VERSION})")]
    Version(u16),
    #[error("segment header checksum mismatch")]
    Checksum,
    #[error("segment header has unknown flags {0:#06x}")]
    Flags(u16),
}

impl SegmentHeader {
    /// The header's bytes.
    pub fn encode(&self) -> [u8; HEADER_LEN] {
        let mut b = [0u8; HEADER_LEN];
        b[0..8].copy_from_slice(&SEGMENT_MAGIC);
        b[8..10].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
        // 10..12: flags, zero.
        b[12..28].copy_from_slice(&self.writer_id.0.to_le_bytes());
        b[28..36].copy_from_slice(&self.segment_seq.to_le_bytes());
        b[36..44].copy_from_slice(&self.salt.to_le_bytes());
        b[44..52].copy_from_slice(&self.first_record_seq.to_le_bytes());
        b[52..60].copy_from_slice(&self.created_nanos.to_le_bytes());
        let crc = mask_crc(crc32c::crc32c(&b[0..60]));
        b[60..64].copy_from_slice(&crc.to_le_bytes());
        b
    }

    /// Parses and checks a header.
    pub fn decode(bytes: &[u8]) -> Result<Self, HeaderError> {
        if let Some(magic) = bytes.get(..8) {
            if magic != SEGMENT_MAGIC {
                return Err(HeaderError::Magic(magic.try_into().expect("8 bytes")));
            }
        }
        let b: &[u8; HEADER_LEN] = bytes
            .get(..HEADER_LEN)
            .and_then(|b| b.try_into().ok())
            .ok_or(HeaderError::Short(bytes.len()))?;
        let magic: [u8; 8] = b[0..8].try_into().expect("8 bytes");
        if magic != SEGMENT_MAGIC {
            return Err(HeaderError::Magic(magic));
        }
        let stored = u32::from_le_bytes(b[60..64].try_into().expect("4 bytes"));
        if stored != mask_crc(crc32c::crc32c(&b[0..60])) {
            return Err(HeaderError::Checksum);
        }
        let version = u16::from_le_bytes([b[8], b[9]]);
        if version != FORMAT_VERSION {
            return Err(HeaderError::Version(version));
        }
        if b[10] != 0 || b[11] != 0 {
            return Err(HeaderError::Flags(u16::from_le_bytes([b[10], b[11]])));
        }
        let u64_at = |at: usize| u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"));
        Ok(Self {
            writer_id: WriterId(u128::from_le_bytes(b[12..28].try_into().expect("16 bytes"))),
            segment_seq: u64_at(28),
            salt: u64_at(36),
            first_record_seq: u64_at(44),
            created_nanos: u64_at(52) as i64,
        })
    }
}

/// What a frame holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum FrameKind {
    /// A block of consecutive records.
    Records = 1,
    /// The footer that seals a segment.
    Footer = 2,
}

/// How a frame's payload is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Codec {
    None = 0,
    Zstd = 1,
}

/// The fixed part of a frame, before its payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    pub kind: FrameKind,
    pub codec: Codec,
    /// Bytes of payload as stored (compressed, if so).
    pub stored_len: u32,
    /// Records in the block (0 for a footer).
    pub record_count: u32,
    /// Sequence of the first record in the block (for a footer: the next record's sequence).
    pub first_seq: u64,
}

/// Why bytes are not a valid frame header. Every variant means "not a frame here".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("frame checksum mismatch")]
    Checksum,
    #[error("unknown frame kind {0}")]
    Kind(u8),
    #[error("unknown codec {0}")]
    Codec(u8),
    #[error("frame payload of {0} bytes exceeds the {MAX_FRAME_PAYLOAD}-byte limit")]
    TooLarge(u32),
    #[error("nonzero reserved bytes")]
    Reserved,
}

impl FrameHeader {
    /// Header bytes for this frame, with the CRC over header, payload and `salt`.
    pub fn encode(&self, payload: &[u8], salt: u64) -> [u8; FRAME_HEADER_LEN] {
        let mut b = [0u8; FRAME_HEADER_LEN];
        b[4..8].copy_from_slice(&self.stored_len.to_le_bytes());
        b[8] = self.kind as u8;
        b[9] = self.codec as u8;
        b[12..16].copy_from_slice(&self.record_count.to_le_bytes());
        b[16..24].copy_from_slice(&self.first_seq.to_le_bytes());
        let crc = frame_crc(&b, payload, salt);
        b[0..4].copy_from_slice(&crc.to_le_bytes());
        b
    }

    /// Parses the fields of a header without checking its CRC (the payload is needed for that).
    pub fn parse(b: &[u8; FRAME_HEADER_LEN]) -> Result<Self, FrameError> {
        let stored_len = u32::from_le_bytes(b[4..8].try_into().expect("4 bytes"));
        if stored_len as usize > MAX_FRAME_PAYLOAD {
            return Err(FrameError::TooLarge(stored_len));
        }
        let kind = match b[8] {
            1 => FrameKind::Records,
            2 => FrameKind::Footer,
            other => return Err(FrameError::Kind(other)),
        };
        let codec = match b[9] {
            0 => Codec::None,
            1 => Codec::Zstd,
            other => return Err(FrameError::Codec(other)),
        };
        if b[10] != 0 || b[11] != 0 {
            return Err(FrameError::Reserved);
        }
        Ok(Self {
            kind,
            codec,
            stored_len,
            record_count: u32::from_le_bytes(b[12..16].try_into().expect("4 bytes")),
            first_seq: u64::from_le_bytes(b[16..24].try_into().expect("8 bytes")),
        })
    }

    /// Checks the CRC of a parsed header against its payload.
    pub fn verify(b: &[u8; FRAME_HEADER_LEN], payload: &[u8], salt: u64) -> Result<(), FrameError> {
        let stored = u32::from_le_bytes(b[0..4].try_into().expect("4 bytes"));
        if stored == frame_crc(b, payload, salt) {
            Ok(())
        } else {
            Err(FrameError::Checksum)
        }
    }
}

fn frame_crc(header: &[u8; FRAME_HEADER_LEN], payload: &[u8], salt: u64) -> u32 {
    let crc = crc32c::crc32c(&header[4..]);
    let crc = crc32c::crc32c_append(crc, payload);
    mask_crc(crc32c::crc32c_append(crc, &salt.to_le_bytes()))
}

/// What a sealed segment says about its records.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Footer {
    /// Records in the segment.
    pub record_count: u64,
    /// Sequence of the first record, or of the next one if the segment is empty.
    pub first_seq: u64,
    /// Earliest and latest record time (nanoseconds), if any record had one.
    pub min_ts_nanos: Option<i64>,
    pub max_ts_nanos: Option<i64>,
    /// Records per level: trace, debug, info, warn, error, fatal, and none.
    pub level_counts: [u64; 7],
}

impl Footer {
    const LEN: usize = 8 + 8 + 1 + 8 + 8 + 7 * 8;

    /// Counts one record in.
    pub fn add(&mut self, ts_nanos: Option<i64>, level: Option<Level>) {
        self.record_count += 1;
        if let Some(ts) = ts_nanos {
            self.min_ts_nanos = Some(self.min_ts_nanos.map_or(ts, |m| m.min(ts)));
            self.max_ts_nanos = Some(self.max_ts_nanos.map_or(ts, |m| m.max(ts)));
        }
        let slot = level.map_or(6, |l| usize::from(l.code()) - 1);
        self.level_counts[slot] += 1;
    }

    /// The footer frame's payload.
    pub fn encode(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(Self::LEN);
        b.extend_from_slice(&self.record_count.to_le_bytes());
        b.extend_from_slice(&self.first_seq.to_le_bytes());
        let has_ts =
            u8::from(self.min_ts_nanos.is_some()) | (u8::from(self.max_ts_nanos.is_some()) << 1);
        b.push(has_ts);
        b.extend_from_slice(&self.min_ts_nanos.unwrap_or(0).to_le_bytes());
        b.extend_from_slice(&self.max_ts_nanos.unwrap_or(0).to_le_bytes());
        for count in self.level_counts {
            b.extend_from_slice(&count.to_le_bytes());
        }
        b
    }

    /// Parses a footer frame's payload.
    pub fn decode(b: &[u8]) -> Option<Self> {
        if b.len() != Self::LEN {
            return None;
        }
        let u64_at = |at: usize| u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"));
        let mut level_counts = [0u64; 7];
        for (i, slot) in level_counts.iter_mut().enumerate() {
            *slot = u64_at(33 + 8 * i);
        }
        Some(Self {
            record_count: u64_at(0),
            first_seq: u64_at(8),
            min_ts_nanos: (b[16] & 1 != 0).then(|| u64_at(17) as i64),
            max_ts_nanos: (b[16] & 2 != 0).then(|| u64_at(25) as i64),
            level_counts,
        })
    }
}

/// The trailer after a footer frame: where the footer starts, and the end magic.
pub fn encode_trailer(footer_offset: u64) -> [u8; TRAILER_LEN] {
    let mut b = [0u8; TRAILER_LEN];
    b[0..8].copy_from_slice(&footer_offset.to_le_bytes());
    b[8..16].copy_from_slice(&TRAILER_MAGIC);
    b
}

/// The footer offset a trailer points at, if these bytes are a trailer.
pub fn decode_trailer(b: &[u8]) -> Option<u64> {
    let b: &[u8; TRAILER_LEN] = b.try_into().ok()?;
    (b[8..16] == TRAILER_MAGIC).then(|| u64::from_le_bytes(b[0..8].try_into().expect("8 bytes")))
}

/// Name of the lock file that keeps a second writer out of a bundle directory.
pub const LOCK_FILE: &str = "LOCK";

/// File name of segment `seq`: 20 digits, so names sort in sequence order.
pub fn segment_file_name(seq: u64) -> String {
    format!("{seq:020}.seg")
}

/// The sequence in a segment file name, if it is one.
pub fn parse_segment_file_name(name: &str) -> Option<u64> {
    let digits = name.strip_suffix(".seg")?;
    (digits.len() == 20 && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| digits.parse().ok())
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> SegmentHeader {
        SegmentHeader {
            writer_id: WriterId(0x0123_4567_89ab_cdef_0011_2233_4455_6677),
            segment_seq: 7,
            salt: 0xdead_beef_cafe_f00d,
            first_record_seq: 1001,
            created_nanos: 12345,
        }
    }

    #[test]
    fn headers_round_trip_and_reject_damage() {
        let bytes = header().encode();
        assert_eq!(SegmentHeader::decode(&bytes).unwrap(), header());
        for i in 0..HEADER_LEN {
            let mut damaged = bytes;
            damaged[i] ^= 0x40;
            assert!(SegmentHeader::decode(&damaged).is_err(), "byte {i}");
        }
        assert_eq!(
            SegmentHeader::decode(&bytes[..10]),
            Err(HeaderError::Short(10))
        );
    }

    #[test]
    fn frames_verify_only_with_their_payload_and_salt() {
        let header = FrameHeader {
            kind: FrameKind::Records,
            codec: Codec::None,
            stored_len: 5,
            record_count: 1,
            first_seq: 9,
        };
        let b = header.encode(b"hello", 42);
        assert_eq!(FrameHeader::parse(&b).unwrap(), header);
        FrameHeader::verify(&b, b"hello", 42).unwrap();
        assert_eq!(
            FrameHeader::verify(&b, b"hellO", 42),
            Err(FrameError::Checksum)
        );
        assert_eq!(
            FrameHeader::verify(&b, b"hello", 43),
            Err(FrameError::Checksum)
        );
        let mut stale = b;
        stale[16] ^= 1;
        assert_eq!(
            FrameHeader::verify(&stale, b"hello", 42),
            Err(FrameError::Checksum)
        );
    }

    #[test]
    fn zeros_are_not_a_frame() {
        let zeros = [0u8; FRAME_HEADER_LEN];
        assert_eq!(FrameHeader::parse(&zeros), Err(FrameError::Kind(0)));
    }

    #[test]
    fn footers_round_trip() {
        let mut footer = Footer {
            first_seq: 5,
            ..Footer::default()
        };
        footer.add(Some(-3), Some(Level::Error));
        footer.add(Some(10), None);
        footer.add(None, Some(Level::Trace));
        assert_eq!(Footer::decode(&footer.encode()).unwrap(), footer);
        assert_eq!(footer.level_counts, [1, 0, 0, 0, 1, 0, 1]);
        assert_eq!(
            (footer.min_ts_nanos, footer.max_ts_nanos),
            (Some(-3), Some(10))
        );
    }

    #[test]
    fn segment_names_sort_and_parse() {
        assert_eq!(segment_file_name(42), "00000000000000000042.seg");
        assert_eq!(
            parse_segment_file_name("00000000000000000042.seg"),
            Some(42)
        );
        for bad in [
            "42.seg",
            "00000000000000000042.seg.tmp",
            "0000000000000000004x.seg",
            "LOCK",
        ] {
            assert_eq!(parse_segment_file_name(bad), None, "{bad}");
        }
    }
}
