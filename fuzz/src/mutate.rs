//! A small seeded random generator and the mutations applied to seed inputs.

/// SplitMix64: tiny, fast, and fully determined by its seed, so an input is reproduced
/// from the seed the harness reports.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator starting from `seed`.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// True once in `n` draws on average.
    pub fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }
}

/// The seed of input number `index` of a run started with `run_seed`.
pub fn input_seed(run_seed: u64, index: u64) -> u64 {
    Rng::new(run_seed ^ index.wrapping_mul(0xD1B5_4A32_D192_ED03)).next_u64()
}

/// Bytes that matter to the parsers under test: separators of forms, cookies, compact
/// JOSE and JSON, quotes, escapes, and bytes that are not UTF-8.
const INTERESTING: &[u8] = b"=&;.,~\"'\\{}[]:%+-_/ \t\r\n\x00\xff\xc3\x80";

/// Lengths of "huge" inputs: large enough to expose an unbounded read or a quadratic
/// parser, small enough to stay quick when the parser is sound.
const HUGE_MIN: usize = 1 << 20;
const HUGE_MAX: usize = 3 << 20;

/// Builds one input from the seed corpus: a seed (or two spliced) with one to four
/// mutations; once in `huge_every` inputs, blown up to 1–3 MB.
pub fn generate(rng: &mut Rng, corpus: &[Vec<u8>], huge_every: usize) -> Vec<u8> {
    let mut data = corpus[rng.below(corpus.len())].clone();
    let rounds = 1 + rng.below(4);
    for _ in 0..rounds {
        mutate(rng, &mut data, corpus);
    }
    if huge_every > 0 && rng.one_in(huge_every) {
        blow_up(rng, &mut data);
    }
    data
}

fn random_byte(rng: &mut Rng) -> u8 {
    if rng.one_in(2) {
        INTERESTING[rng.below(INTERESTING.len())]
    } else {
        rng.next_u64() as u8
    }
}

/// One mutation: bit flips, byte changes, insertions, deletions, truncation, splicing
/// with another seed, repetition of a slice.
fn mutate(rng: &mut Rng, data: &mut Vec<u8>, corpus: &[Vec<u8>]) {
    if data.is_empty() {
        data.push(random_byte(rng));
        return;
    }
    let len = data.len();
    match rng.below(9) {
        0 => {
            for _ in 0..1 + rng.below(8) {
                let i = rng.below(len);
                data[i] ^= 1 << rng.below(8);
            }
        }
        1 => {
            let i = rng.below(len);
            data[i] = random_byte(rng);
        }
        2 => {
            let at = rng.below(len + 1);
            let n = 1 + rng.below(16);
            let bytes: Vec<u8> = (0..n).map(|_| random_byte(rng)).collect();
            data.splice(at..at, bytes);
        }
        3 => {
            let start = rng.below(len);
            let end = (start + 1 + rng.below(len - start)).min(len);
            data.drain(start..end);
        }
        4 => data.truncate(rng.below(len)),
        5 => {
            // Splice: a prefix of this input and a suffix of another seed.
            let other = &corpus[rng.below(corpus.len())];
            let cut = rng.below(len + 1);
            let from = rng.below(other.len() + 1);
            data.truncate(cut);
            data.extend_from_slice(&other[from..]);
        }
        6 => {
            // Repeat a slice a few times (or a few thousand).
            let start = rng.below(len);
            let end = (start + 1 + rng.below(32)).min(len);
            let slice = data[start..end].to_vec();
            let times = if rng.one_in(8) {
                1 + rng.below(4096)
            } else {
                1 + rng.below(8)
            };
            let repeated: Vec<u8> = slice
                .iter()
                .copied()
                .cycle()
                .take(slice.len() * times)
                .collect();
            data.splice(end..end, repeated);
        }
        7 => {
            // Overwrite with an ASCII number (lengths, counts, timestamps).
            let i = rng.below(len);
            let n = match rng.below(4) {
                0 => "0".to_owned(),
                1 => "-1".to_owned(),
                2 => u64::MAX.to_string(),
                _ => rng.below(100).to_string(),
            };
            let end = (i + n.len()).min(len);
            data.splice(i..end, n.into_bytes());
        }
        _ => {
            // Swap two bytes.
            let (a, b) = (rng.below(len), rng.below(len));
            data.swap(a, b);
        }
    }
}

/// Repeats a slice of `data` until it is 1–3 MB long.
fn blow_up(rng: &mut Rng, data: &mut Vec<u8>) {
    if data.is_empty() {
        data.push(b'a');
    }
    let target = HUGE_MIN + rng.below(HUGE_MAX - HUGE_MIN);
    let start = rng.below(data.len());
    let end = (start + 1 + rng.below(64)).min(data.len());
    let slice = data[start..end].to_vec();
    let tail = data.split_off(end);
    while data.len() + tail.len() < target {
        data.extend_from_slice(&slice);
    }
    data.extend_from_slice(&tail);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_input() {
        let corpus = vec![b"code=abc&state=def".to_vec(), b"{\"keys\":[]}".to_vec()];
        for i in 0..100 {
            let s = input_seed(7, i);
            let a = generate(&mut Rng::new(s), &corpus, 50);
            let b = generate(&mut Rng::new(s), &corpus, 50);
            assert_eq!(a, b);
        }
    }

    #[test]
    fn huge_inputs_are_megabytes() {
        let corpus = vec![b"x=1".to_vec()];
        let mut rng = Rng::new(1);
        let data = generate(&mut rng, &corpus, 1);
        assert!(data.len() >= HUGE_MIN, "{}", data.len());
    }
}
