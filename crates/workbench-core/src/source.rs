//! Reading input files (rules, scenarios) with the limits of SPEC §8 and clear errors, and
//! naming positions.

use std::fs::{self, File};
use std::io::{ErrorKind, Read};
use std::path::Path;

use crate::yaml::Pos;

/// A rules file is at most 4 MiB (SPEC §8).
pub const MAX_RULES_BYTES: u64 = 4 << 20;
/// A YAML scenario is at most 256 MiB (SPEC §8); `.jsonl` streams have no size limit.
pub const MAX_YAML_SCENARIO_BYTES: u64 = 256 << 20;

/// Open an input file: it must be a regular file (not a directory, a device or a FIFO).
pub fn open_regular(path: &Path) -> Result<File, String> {
    let meta = fs::metadata(path).map_err(|e| describe(path, &e))?;
    if meta.is_dir() {
        return Err("is a directory, not a file".to_string());
    }
    if !meta.is_file() {
        return Err("is not a regular file (a device, a pipe or a socket)".to_string());
    }
    File::open(path).map_err(|e| describe(path, &e))
}

/// Read a UTF-8 text file of at most `limit` bytes; errors say what is wrong in one
/// lowercase line. The limit is enforced while reading, so a file that grows is cut off too.
pub fn read_text(path: &Path, limit: u64) -> Result<String, String> {
    let file = open_regular(path)?;
    let mut bytes = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| describe(path, &e))?;
    if bytes.len() as u64 > limit {
        return Err(format!(
            "file is larger than the limit of {} MiB",
            limit >> 20
        ));
    }
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let line = e.as_bytes()[..at].iter().filter(|b| **b == b'\n').count() + 1;
        format!("line {line}: not valid UTF-8 (byte offset {at})")
    })
}

fn describe(path: &Path, e: &std::io::Error) -> String {
    match e.kind() {
        ErrorKind::NotFound => "no such file".to_string(),
        ErrorKind::IsADirectory => "is a directory, not a file".to_string(),
        _ if path.is_dir() => "is a directory, not a file".to_string(),
        _ => format!("cannot read: {e}"),
    }
}

/// `file:line:column`, or just `file` when the position is unknown.
pub fn at(file: &Path, pos: Option<Pos>) -> String {
    match pos {
        Some(p) => format!("{}:{}:{}", file.display(), p.line, p.column),
        None => file.display().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_and_directories_are_refused() {
        let err = read_text(Path::new("/dev/zero"), MAX_RULES_BYTES).unwrap_err();
        assert!(err.contains("not a regular file"), "{err}");
        let err = read_text(Path::new("/"), MAX_RULES_BYTES).unwrap_err();
        assert!(err.contains("directory"), "{err}");
    }

    #[test]
    fn files_over_the_limit_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.yaml");
        fs::write(&path, vec![b'#'; 2048]).unwrap();
        let err = read_text(&path, 1024).unwrap_err();
        assert!(err.contains("larger than the limit"), "{err}");
        assert_eq!(read_text(&path, 2048).unwrap().len(), 2048);
    }
}
