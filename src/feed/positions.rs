//! The SSE id of a multiplexed stream: every show's position in one short string, so a
//! browser's `Last-Event-ID` resumes each show of the stream exactly, on any node.
//!
//! `<fp>.<p1>.<p2>…`: `fp` fingerprints the stream's show list (FNV-1a 32 over the ids in
//! request order, lowercase and hyphenated, joined by `,`; 8 hex digits), then one
//! position per show in that order: the last seq sent, base 36, or `-` when nothing was
//! sent yet. The positions are by place, not by id (a UUID is 36 bytes; a place costs
//! nothing), and the fingerprint keeps an id from being applied to another list: a client
//! that changes its list builds the new id from its own per-show positions.

use std::fmt::Write as _;

use crate::domain::ShowId;

/// Where each show of a stream stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Positions {
    fingerprint: u32,
    seqs: Vec<Option<i64>>,
}

impl Positions {
    /// Nothing sent yet for any of `shows`.
    pub fn new(shows: &[ShowId]) -> Self {
        Positions {
            fingerprint: fingerprint(shows),
            seqs: vec![None; shows.len()],
        }
    }

    /// The positions an id gives for `shows`, or None when it is not an id of this list
    /// (another list's, truncated, garbage): the caller then starts every show afresh.
    pub fn parse(shows: &[ShowId], id: &str) -> Option<Self> {
        let mut parts = id.trim().split('.');
        let fp = parts.next()?;
        if fp.len() != 8 {
            return None;
        }
        let fingerprint = u32::from_str_radix(fp, 16).ok()?;
        if fingerprint != self::fingerprint(shows) {
            return None;
        }
        let seqs = parts
            .map(|p| match p {
                "-" => Some(None),
                digits => parse_base36(digits).map(Some),
            })
            .collect::<Option<Vec<_>>>()?;
        (seqs.len() == shows.len()).then_some(Positions { fingerprint, seqs })
    }

    /// Show `index`'s position: where its resume starts.
    pub fn get(&self, index: usize) -> Option<i64> {
        self.seqs.get(index).copied().flatten()
    }

    /// Show `index` has been sent up to `seq`.
    pub fn set(&mut self, index: usize, seq: i64) {
        self.seqs[index] = Some(seq);
    }

    /// The id, as it goes after `id: `.
    pub fn encode(&self) -> String {
        let mut out = String::with_capacity(self.encoded_len_hint());
        self.encode_into(&mut out);
        out
    }

    /// About how long the id is (a few digits a show), to size a buffer once.
    pub fn encoded_len_hint(&self) -> usize {
        9 + self.seqs.len() * 4
    }

    /// Appends the id to `out` (a stream writes it into its `id:` line: one allocation
    /// per event).
    pub fn encode_into(&self, out: &mut String) {
        write!(out, "{:08x}", self.fingerprint).expect("writing to a String");
        for seq in &self.seqs {
            out.push('.');
            match seq {
                Some(seq) => push_base36(out, *seq),
                None => out.push('-'),
            }
        }
    }
}

/// FNV-1a 32 of the ids joined by `,`: cheap, stable, and written in ten lines of any
/// language (the client library builds ids too).
fn fingerprint(shows: &[ShowId]) -> u32 {
    const OFFSET: u32 = 0x811c_9dc5;
    const PRIME: u32 = 0x0100_0193;
    let mut hash = OFFSET;
    let mut eat = |bytes: &[u8]| {
        for b in bytes {
            hash ^= u32::from(*b);
            hash = hash.wrapping_mul(PRIME);
        }
    };
    let mut buf = uuid::Uuid::encode_buffer();
    for (i, show) in shows.iter().enumerate() {
        if i > 0 {
            eat(b",");
        }
        eat(show.0.hyphenated().encode_lower(&mut buf).as_bytes());
    }
    hash
}

/// A seq in base 36 (0-9a-z); negative seqs do not occur (they start at 0).
fn push_base36(out: &mut String, seq: i64) {
    let mut n = seq.max(0) as u64;
    let mut digits = [0u8; 13];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b"0123456789abcdefghijklmnopqrstuvwxyz"[(n % 36) as usize];
        n /= 36;
        if n == 0 {
            break;
        }
    }
    out.push_str(std::str::from_utf8(&digits[at..]).expect("ASCII digits"));
}

/// Lowercase base 36, at most 12 digits (far beyond any seq, well inside i64).
fn parse_base36(digits: &str) -> Option<i64> {
    if digits.is_empty()
        || digits.len() > 12
        || !digits
            .bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
    {
        return None;
    }
    i64::from_str_radix(digits, 36).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shows(n: usize) -> Vec<ShowId> {
        (0..n).map(|_| ShowId(uuid::Uuid::new_v4())).collect()
    }

    #[test]
    fn an_id_round_trips_with_every_position_in_place() {
        let list = shows(3);
        let mut p = Positions::new(&list);
        p.set(0, 12);
        p.set(2, 0);
        let id = p.encode();
        assert_eq!(id.split('.').skip(1).collect::<Vec<_>>(), ["c", "-", "0"]);
        let back = Positions::parse(&list, &id).expect("its own id parses");
        assert_eq!(back, p);
        assert_eq!(
            (back.get(0), back.get(1), back.get(2)),
            (Some(12), None, Some(0))
        );
    }

    #[test]
    fn the_fingerprint_is_fnv1a_of_the_joined_ids() {
        // The value the client library computes for the same list (client/test).
        let list: Vec<ShowId> = [
            "6f1d3c52-8f0e-4c8e-9a55-3b1f2d7c9e10",
            "0b7e3a8e-4f61-4a8e-bb55-5b0d3c1c2f11",
        ]
        .iter()
        .map(|s| s.parse().unwrap())
        .collect();
        let mut hash: u32 = 0x811c_9dc5;
        for b in "6f1d3c52-8f0e-4c8e-9a55-3b1f2d7c9e10,0b7e3a8e-4f61-4a8e-bb55-5b0d3c1c2f11".bytes()
        {
            hash = (hash ^ u32::from(b)).wrapping_mul(0x0100_0193);
        }
        assert_eq!(fingerprint(&list), hash);
        assert!(Positions::new(&list)
            .encode()
            .starts_with(&format!("{hash:08x}.")));
    }

    #[test]
    fn an_id_of_another_list_or_order_is_refused() {
        let list = shows(2);
        let mut p = Positions::new(&list);
        p.set(0, 5);
        p.set(1, 7);
        let id = p.encode();
        let reversed: Vec<ShowId> = list.iter().rev().copied().collect();
        assert_eq!(
            Positions::parse(&reversed, &id),
            None,
            "same shows, other order"
        );
        assert_eq!(Positions::parse(&list[..1], &id), None, "a shorter list");
        assert_eq!(Positions::parse(&shows(2), &id), None, "other shows");
    }

    #[test]
    fn garbage_is_refused_not_misread() {
        let list = shows(2);
        let fp = Positions::new(&list).encode()[..8].to_owned();
        for bad in [
            String::new(),
            "42".into(),
            fp.clone(),
            format!("{fp}.1"),
            format!("{fp}.1.2.3"),
            format!("{fp}.1."),
            format!("{fp}.1.-1"),
            format!("{fp}.1.A"),
            format!("{fp}.1.+5"),
            format!("{fp}.1.zzzzzzzzzzzzz"),
            format!("{fp}.1.\u{e9}"),
            format!("X{}.1.2", &fp[1..]),
            format!("{fp}0.1.2"),
        ] {
            assert_eq!(Positions::parse(&list, &bad), None, "{bad:?}");
        }
        assert!(
            Positions::parse(&list, &format!(" {fp}.1.2 ")).is_some(),
            "spaces around are fine"
        );
    }

    #[test]
    fn ten_thousand_shows_encode_and_parse_in_one_piece() {
        let list = shows(10_000);
        let mut p = Positions::new(&list);
        // Seqs up to 46,655 (three base-36 digits), a long show's worth.
        for i in 0..list.len() {
            p.set(i, (i as i64 * 4_999) % 46_656);
        }
        let id = p.encode();
        assert!(
            id.len() <= 9 + 10_000 * 4,
            "a dot and 3 digits a show: {} bytes",
            id.len()
        );
        assert_eq!(Positions::parse(&list, &id), Some(p));
    }

    #[test]
    fn base36_covers_large_seqs() {
        let mut s = String::new();
        push_base36(&mut s, i64::from(u32::MAX) * 1000);
        assert_eq!(parse_base36(&s), Some(i64::from(u32::MAX) * 1000));
        s.clear();
        push_base36(&mut s, 0);
        assert_eq!(s, "0");
    }
}
