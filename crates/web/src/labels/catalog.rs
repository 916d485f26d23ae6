//! The set of known templates: built-in copies of the files in `labels/`,
//! replaced or extended by the files of a directory read at run time.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use super::error::LabelError;
use super::parse::parse_template;
use super::template::Template;

/// Directory searched for template files, relative to the working directory,
/// when no other directory is given.
pub const DEFAULT_TEMPLATE_DIR: &str = "labels";

/// The template files of the workspace's `labels/` directory, compiled into
/// the binary so that it works from any working directory.
const BUILTIN_TEMPLATES: [(&str, &str); 6] = [
    (
        "avery-5160",
        include_str!("../../../../labels/avery-5160.toml"),
    ),
    (
        "avery-l7160",
        include_str!("../../../../labels/avery-l7160.toml"),
    ),
    (
        "avery-l7163",
        include_str!("../../../../labels/avery-l7163.toml"),
    ),
    (
        "avery-l7651",
        include_str!("../../../../labels/avery-l7651.toml"),
    ),
    (
        "brother-dk-11209",
        include_str!("../../../../labels/brother-dk-11209.toml"),
    ),
    (
        "zebra-2x1",
        include_str!("../../../../labels/zebra-2x1.toml"),
    ),
];

/// Templates by name. A name is the stem of the template's file name.
#[derive(Clone, Debug, Default)]
pub struct TemplateCatalog {
    templates: BTreeMap<String, Template>,
}

impl TemplateCatalog {
    /// Parses the built-in templates.
    pub fn builtin() -> Result<Self, LabelError> {
        let mut catalog = Self::default();
        for (name, text) in BUILTIN_TEMPLATES {
            let file = format!("{DEFAULT_TEMPLATE_DIR}/{name}.toml (built-in)");
            catalog.insert(parse_template(name, &file, text)?);
        }
        Ok(catalog)
    }

    /// Loads the built-in templates, then the `*.toml` files of `dir`, which
    /// replace built-in templates of the same name.
    ///
    /// With `dir` set to `None`, reads [`DEFAULT_TEMPLATE_DIR`] when the
    /// working directory has one and keeps the built-in templates otherwise.
    /// A `dir` that is given but cannot be read is an error.
    pub fn load(dir: Option<&Path>) -> Result<Self, LabelError> {
        let mut catalog = Self::builtin()?;
        let dir = match dir {
            Some(dir) => dir.to_path_buf(),
            None if Path::new(DEFAULT_TEMPLATE_DIR).is_dir() => PathBuf::from(DEFAULT_TEMPLATE_DIR),
            None => return Ok(catalog),
        };
        for (name, file) in template_files(&dir)? {
            let text = fs::read_to_string(&file).map_err(|source| LabelError::TemplateRead {
                file: file.clone(),
                source,
            })?;
            catalog.insert(parse_template(&name, &file.display().to_string(), &text)?);
        }
        Ok(catalog)
    }

    /// Adds `template`, replacing any template of the same name.
    pub fn insert(&mut self, template: Template) {
        self.templates.insert(template.name.clone(), template);
    }

    /// Looks a template up by name.
    pub fn get(&self, name: &str) -> Result<&Template, LabelError> {
        self.templates
            .get(name)
            .ok_or_else(|| LabelError::UnknownTemplate {
                name: name.to_string(),
                known: self.names().collect::<Vec<_>>().join(", "),
            })
    }

    /// Template names in alphabetical order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.templates.keys().map(String::as_str)
    }

    /// Templates in alphabetical order of name.
    pub fn templates(&self) -> impl Iterator<Item = &Template> {
        self.templates.values()
    }
}

/// Lists the `*.toml` files of `dir` with their stems, sorted by file name.
fn template_files(dir: &Path) -> Result<Vec<(String, PathBuf)>, LabelError> {
    let directory_error = |source| LabelError::TemplateDirectory {
        dir: dir.to_path_buf(),
        source,
    };
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).map_err(directory_error)? {
        let path = entry.map_err(directory_error)?.path();
        let is_toml = path
            .extension()
            .is_some_and(|extension| extension == "toml");
        let stem = path.file_stem().and_then(|stem| stem.to_str());
        if let (true, Some(stem)) = (is_toml && path.is_file(), stem) {
            files.push((stem.to_string(), path.clone()));
        }
    }
    files.sort();
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_templates_parse() {
        let catalog = TemplateCatalog::builtin().unwrap();
        let names: Vec<&str> = catalog.names().collect();
        let expected: Vec<&str> = BUILTIN_TEMPLATES.iter().map(|(name, _)| *name).collect();
        assert_eq!(names, expected);
    }

    #[test]
    fn unknown_template_lists_known_names() {
        let catalog = TemplateCatalog::builtin().unwrap();
        let message = catalog.get("avery-9999").unwrap_err().to_string();
        assert!(message.contains("avery-9999"), "{message}");
        assert!(message.contains("avery-l7160"), "{message}");
        assert!(message.contains("zebra-2x1"), "{message}");
    }
}
