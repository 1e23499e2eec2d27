//! A column of per-row values that grows in fixed chunks: no reallocation doubling the
//! memory of ten million rows while it copies them.

/// Values per chunk.
const CHUNK: usize = 1 << 16;

#[derive(Debug, Clone)]
pub struct Column<T> {
    chunks: Vec<Vec<T>>,
    len: usize,
}

impl<T> Default for Column<T> {
    fn default() -> Self {
        Column {
            chunks: Vec::new(),
            len: 0,
        }
    }
}

impl<T: Copy> Column<T> {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn push(&mut self, v: T) {
        match self.chunks.last_mut() {
            Some(c) if c.len() < CHUNK => c.push(v),
            _ => {
                let mut c = Vec::with_capacity(CHUNK);
                c.push(v);
                self.chunks.push(c);
            }
        }
        self.len += 1;
    }

    pub fn get(&self, i: usize) -> Option<T> {
        self.chunks.get(i / CHUNK)?.get(i % CHUNK).copied()
    }

    pub fn get_mut(&mut self, i: usize) -> Option<&mut T> {
        self.chunks.get_mut(i / CHUNK)?.get_mut(i % CHUNK)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_kept_across_chunks() {
        let mut c = Column::default();
        let n = CHUNK * 2 + 3;
        for i in 0..n {
            c.push(i);
        }
        assert_eq!(c.len(), n);
        assert_eq!(c.chunks.len(), 3);
        for i in [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, n - 1] {
            assert_eq!(c.get(i), Some(i));
        }
        assert_eq!(c.get(n), None);
        *c.get_mut(CHUNK).unwrap() = 7;
        assert_eq!(c.get(CHUNK), Some(7));
        assert!(c.get_mut(n).is_none());
        assert_eq!(Column::<u8>::default().get(0), None);
    }
}
