//! The tables a query can read: name (case-sensitive, as KQL requires) → table provider.

use datafusion::catalog::TableProvider;
use std::collections::BTreeMap;
use std::sync::Arc;

#[derive(Default, Clone)]
pub struct Catalog {
    tables: BTreeMap<String, Arc<dyn TableProvider>>,
}

impl std::fmt::Debug for Catalog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.tables.keys()).finish()
    }
}

impl Catalog {
    pub fn new() -> Catalog {
        Catalog::default()
    }

    /// Binds `name` to a table, replacing an earlier binding of the same name.
    pub fn register(&mut self, name: &str, table: Arc<dyn TableProvider>) {
        self.tables.insert(name.to_string(), table);
    }

    pub fn get(&self, name: &str) -> Option<&Arc<dyn TableProvider>> {
        self.tables.get(name)
    }

    pub fn contains(&self, name: &str) -> bool {
        self.tables.contains_key(name)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.tables.keys().map(String::as_str)
    }
}
