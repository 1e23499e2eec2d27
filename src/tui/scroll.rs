//! Scroll state: a pane's vertical and horizontal offsets, kept within what its content
//! needs (learned at each render), and the Events list's window that keeps the cursor row
//! in view.

use std::cell::Cell;

/// One pane's offsets. The limits are set by the last render, so a key never scrolls into
/// blank space.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scroll {
    pub y: u16,
    pub x: u16,
    max_y: Cell<u16>,
    max_x: Cell<u16>,
}

impl Scroll {
    /// Content `rows` high and `cols` wide shown in `height` × `width`: the offsets are kept
    /// within it. Called while rendering.
    pub fn fit(&self, rows: usize, height: u16, cols: usize, width: u16) -> (u16, u16) {
        let over = |content: usize, room: u16| {
            u16::try_from(content.saturating_sub(usize::from(room))).unwrap_or(u16::MAX)
        };
        self.max_y.set(over(rows, height));
        self.max_x.set(over(cols, width));
        (self.y.min(self.max_y.get()), self.x.min(self.max_x.get()))
    }

    pub fn by(&mut self, delta: i64) {
        self.y = shift(self.y, delta, self.max_y.get());
    }

    pub fn sideways(&mut self, delta: i64) {
        self.x = shift(self.x, delta, self.max_x.get());
    }

    pub fn top(&mut self) {
        self.y = 0;
    }

    pub fn bottom(&mut self) {
        self.y = self.max_y.get();
    }

    pub fn reset(&mut self) {
        self.y = 0;
        self.x = 0;
    }
}

fn shift(at: u16, delta: i64, max: u16) -> u16 {
    let moved = (i64::from(at) + delta).clamp(0, i64::from(max));
    u16::try_from(moved).unwrap_or(max)
}

/// The first row the Events pane shows: the previous window moved as little as possible to
/// keep `cursor` in view, and never past the end (no blank rows while there are rows above).
pub fn window(previous: usize, cursor: usize, len: usize, height: usize) -> usize {
    if height == 0 || len == 0 {
        return 0;
    }
    let mut offset = previous.min(len.saturating_sub(height));
    if cursor < offset {
        offset = cursor;
    } else if cursor >= offset + height {
        offset = cursor + 1 - height;
    }
    offset
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_keeps_the_cursor_in_view_and_fills_the_pane() {
        // `G` on 50,000 rows, then a filter leaves 48: all 48 fit, so the window starts at 0.
        assert_eq!(window(49_980, 47, 48, 20), 28);
        assert_eq!(window(49_980, 47, 48, 60), 0);
        assert_eq!(window(0, 5, 100, 10), 0);
        assert_eq!(window(0, 10, 100, 10), 1);
        assert_eq!(window(50, 40, 100, 10), 40);
        assert_eq!(window(5, 7, 100, 10), 5, "moves only when it must");
        assert_eq!(window(3, 0, 0, 10), 0);
        assert_eq!(window(3, 2, 10, 0), 0);
    }

    #[test]
    fn offsets_stay_within_the_content() {
        let mut s = Scroll::default();
        assert_eq!(s.fit(30, 10, 100, 40), (0, 0));
        s.by(5);
        assert_eq!(s.y, 5);
        s.by(100);
        assert_eq!(s.y, 20, "no further than the last page");
        s.by(-3);
        assert_eq!(s.y, 17);
        s.top();
        assert_eq!(s.y, 0);
        s.bottom();
        assert_eq!(s.y, 20);
        s.sideways(100);
        assert_eq!(s.x, 60);
        s.sideways(-100);
        assert_eq!(s.x, 0);
        // Content that shrank (another event) pulls the offsets back when drawn.
        s.y = 20;
        assert_eq!(s.fit(12, 10, 10, 40), (2, 0));
        s.reset();
        assert_eq!((s.y, s.x), (0, 0));
    }
}
