//! `e`: the user's editor on a file at a line, as lazygit and gitui run it: `$VISUAL`, else
//! `$EDITOR`, else `vi`, given `+LINE FILE`. The runtime suspends the terminal around it.

use std::path::Path;
use std::process::Command;

#[derive(Debug, thiserror::Error)]
pub enum EditorError {
    #[error("cannot start the editor `{editor}`: {error}")]
    Start {
        editor: String,
        error: std::io::Error,
    },
    #[error("the editor `{editor}` exited with {status}")]
    Failed { editor: String, status: String },
}

/// The editor command: `VISUAL`, else `EDITOR`, else `vi` (its words split on whitespace, so
/// `code --wait` works).
pub fn command(visual: Option<&str>, editor: Option<&str>) -> Vec<String> {
    let chosen = [visual, editor]
        .into_iter()
        .flatten()
        .map(str::trim)
        .find(|e| !e.is_empty())
        .unwrap_or("vi");
    chosen.split_whitespace().map(str::to_string).collect()
}

/// Run the editor on `file` at `line` and wait for it.
pub fn open(words: &[String], file: &Path, line: usize) -> Result<(), EditorError> {
    let editor = words.join(" ");
    let (program, args) = words.split_first().ok_or_else(|| EditorError::Start {
        editor: editor.clone(),
        error: std::io::Error::other("no editor command"),
    })?;
    let status = Command::new(program)
        .args(args)
        .arg(format!("+{line}"))
        .arg(file)
        .status()
        .map_err(|error| EditorError::Start {
            editor: editor.clone(),
            error,
        })?;
    if status.success() {
        Ok(())
    } else {
        Err(EditorError::Failed {
            editor,
            status: status.to_string(),
        })
    }
}

/// The editor from this process's environment.
pub fn from_env() -> Vec<String> {
    let var = |k| std::env::var(k).ok();
    command(var("VISUAL").as_deref(), var("EDITOR").as_deref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visual_then_editor_then_vi() {
        assert_eq!(command(Some("nvim"), Some("nano")), ["nvim"]);
        assert_eq!(command(Some(" "), Some("code --wait")), ["code", "--wait"]);
        assert_eq!(command(None, None), ["vi"]);
    }
}
