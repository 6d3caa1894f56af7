//! CRC16-CCITT (XMODEM), the checksum Redis Cluster maps keys to slots with.

/// The table for polynomial 0x1021, built at compile time.
const TABLE: [u16; 256] = {
    let mut table = [0u16; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = (i as u16) << 8;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 0x8000 != 0 { (crc << 1) ^ 0x1021 } else { crc << 1 };
            bit += 1;
        }
        table[i] = crc;
        i += 1;
    }
    table
};

/// CRC16-CCITT in its XMODEM form (polynomial 0x1021, initial value 0, no reflection), as in
/// Redis's `crc16.c`.
///
/// ```
/// // The check value of the XMODEM variant, and the one Redis's crc16.c documents.
/// assert_eq!(pool_cluster::crc16(b"123456789"), 0x31c3);
/// ```
#[must_use]
pub fn crc16(bytes: &[u8]) -> u16 {
    bytes.iter().fold(0u16, |crc, &b| (crc << 8) ^ TABLE[usize::from((crc >> 8) as u8 ^ b)])
}
