//! Reading the mapped paths of one JSON object without building it: a serde visitor walks the
//! object along a tree of the mapped paths, keeps the leaves it needs and skips every other
//! value with [`IgnoredAny`] (no allocation, no copy).
//!
//! The result equals reading the line into a [`serde_json::Value`] and looking each path up
//! (property-tested against that in `jsonl`'s tests): string leaves as their text, number
//! leaves as `Value`'s display of the number, anything else absent; a key that occurs twice
//! counts as its last occurrence.

// Reviewed (#11): `column` and `below` are column numbers of the walker's own key tree, and
// `text`/`set` have one entry per column of that tree; `children[i]` is a position found in
// `children`.
#![allow(clippy::indexing_slicing)]

use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// The mapped paths as a tree of keys; a node that ends a path holds its column.
#[derive(Debug, Default)]
pub struct PathTree {
    children: Vec<(String, PathTree)>,
    column: Option<usize>,
    /// The columns of this node and every node below it (cleared when a key repeats).
    below: Vec<usize>,
}

impl PathTree {
    /// The tree of `paths` (column, path segments).
    pub fn new(paths: &[(usize, Vec<String>)]) -> PathTree {
        let mut root = PathTree::default();
        for (column, segments) in paths {
            let mut node = &mut root;
            node.below.push(*column);
            for s in segments {
                let i = match node.children.iter().position(|(k, _)| k == s) {
                    Some(i) => i,
                    None => {
                        node.children.push((s.clone(), PathTree::default()));
                        node.children.len() - 1
                    }
                };
                node = &mut node.children[i].1;
                node.below.push(*column);
            }
            node.column = Some(*column);
        }
        root
    }

    fn child(&self, key: &str) -> Option<&PathTree> {
        self.children.iter().find(|(k, _)| k == key).map(|(_, c)| c)
    }
}

/// The mapped values of the current record, by column.
#[derive(Debug)]
pub struct Values {
    pub text: Vec<String>,
    pub set: Vec<bool>,
}

impl Values {
    pub fn new(columns: usize) -> Values {
        Values { text: vec![String::new(); columns], set: vec![false; columns] }
    }

    fn put(&mut self, column: usize, text: &str) {
        self.text[column].clear();
        self.text[column].push_str(text);
        self.set[column] = true;
    }
}

/// Fills `values` from one JSON text, which must be an object. `Err` for anything else,
/// including trailing bytes after the object.
pub fn read_object(line: &[u8], tree: &PathTree, values: &mut Values) -> serde_json::Result<()> {
    values.set.iter_mut().for_each(|s| *s = false);
    let mut de = serde_json::Deserializer::from_slice(line);
    de.deserialize_map(Walk { node: tree, values })?;
    de.end()
}

/// An object key, looked up among `node`'s children without being copied.
struct Key<'t>(&'t PathTree);

impl<'de, 't> DeserializeSeed<'de> for Key<'t> {
    type Value = Option<&'t PathTree>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de, 't> Visitor<'de> for Key<'t> {
    type Value = Option<&'t PathTree>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_str<E>(self, key: &str) -> Result<Self::Value, E> {
        Ok(self.0.child(key))
    }
}

/// A value at `node` of the tree.
struct Walk<'t, 'v> {
    node: &'t PathTree,
    values: &'v mut Values,
}

impl<'de> DeserializeSeed<'de> for Walk<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl Walk<'_, '_> {
    fn leaf(self, text: &str) {
        if let Some(column) = self.node.column {
            self.values.put(column, text);
        }
    }

    fn number(self, n: serde_json::Number) {
        if let Some(column) = self.node.column {
            self.values.put(column, &n.to_string());
        }
    }
}

impl<'de> Visitor<'de> for Walk<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(child) = map.next_key_seed(Key(self.node))? {
            match child {
                Some(child) => {
                    // A repeated key replaces what its first occurrence set.
                    child.below.iter().for_each(|&c| self.values.set[c] = false);
                    map.next_value_seed(Walk { node: child, values: &mut *self.values })?;
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(())
    }

    fn visit_str<E>(self, v: &str) -> Result<(), E> {
        self.leaf(v);
        Ok(())
    }

    fn visit_u64<E>(self, v: u64) -> Result<(), E> {
        self.number(v.into());
        Ok(())
    }

    fn visit_i64<E>(self, v: i64) -> Result<(), E> {
        self.number(v.into());
        Ok(())
    }

    fn visit_f64<E>(self, v: f64) -> Result<(), E> {
        if let Some(n) = serde_json::Number::from_f64(v) {
            self.number(n);
        }
        Ok(())
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
}
