//! The only code that touches sled. Everything else sees the narrow [`Store`]
//! trait, so a second engine can be added without touching the rest.

use std::future::Future;
use std::path::Path;
use std::pin::Pin;

use sled::transaction::{ConflictableTransactionError, TransactionError};
use sled::Transactional;

/// The keyspaces of the store. Keys are big-endian integers or UTF-8 ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tree {
    /// username → user record.
    Users = 0,
    /// `items` → the whole menu, in display order.
    Menu,
    /// order id (u64 BE) → order.
    Orders,
    /// promo code → promo.
    Promos,
    /// seq (u64 BE) → log record: the event and who may see it.
    Events,
    /// customer id + client_order_id → order id.
    Idempotency,
    /// activity id (u64 BE) → activity entry.
    Activity,
    /// user id → unix seconds of the last revocation.
    Revoked,
    /// announcement id (u64 BE) → announcement.
    Announcements,
    /// alert id (u64 BE) → alert.
    Alerts,
    /// counters and the log id.
    Meta,
}

const TREES: [&str; 11] = [
    "users",
    "menu",
    "orders",
    "promos",
    "events",
    "idempotency",
    "activity",
    "revoked",
    "announcements",
    "alerts",
    "meta",
];

/// One write: a value to store, or `None` to delete the key.
#[derive(Debug, Clone)]
pub struct Put {
    pub tree: Tree,
    pub key: Vec<u8>,
    pub value: Option<Vec<u8>>,
}

impl Put {
    pub fn set(tree: Tree, key: impl Into<Vec<u8>>, value: Vec<u8>) -> Self {
        Put {
            tree,
            key: key.into(),
            value: Some(value),
        }
    }
    pub fn delete(tree: Tree, key: impl Into<Vec<u8>>) -> Self {
        Put {
            tree,
            key: key.into(),
            value: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("store: {0}")]
pub struct StoreError(pub String);

impl From<sled::Error> for StoreError {
    fn from(e: sled::Error) -> Self {
        StoreError(e.to_string())
    }
}

pub type Entry = (Vec<u8>, Vec<u8>);
pub type FlushFuture<'a> = Pin<Box<dyn Future<Output = Result<(), StoreError>> + Send + 'a>>;

pub trait Store: Send + Sync + 'static {
    /// Writes every put atomically: all of them or none.
    fn write(&self, puts: &[Put]) -> Result<(), StoreError>;
    /// Makes everything written so far survive a killed process.
    fn flush(&self) -> FlushFuture<'_>;
    fn get(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError>;
    /// Every entry of a tree, in key order.
    fn scan(&self, tree: Tree) -> Result<Vec<Entry>, StoreError>;
    /// Up to `limit` entries with keys `>= from`, in key order.
    fn range_from(&self, tree: Tree, from: &[u8], limit: usize) -> Result<Vec<Entry>, StoreError>;
    /// Up to `limit` entries with keys `< before`, newest (largest) first.
    fn range_before_rev(
        &self,
        tree: Tree,
        before: &[u8],
        limit: usize,
    ) -> Result<Vec<Entry>, StoreError>;
    fn first(&self, tree: Tree) -> Result<Option<Entry>, StoreError>;
    fn last(&self, tree: Tree) -> Result<Option<Entry>, StoreError>;
    /// Deletes keys `< below` (log retention).
    fn remove_below(&self, tree: Tree, below: &[u8]) -> Result<usize, StoreError>;
    fn size_on_disk(&self) -> u64;
}

/// The embedded default engine.
pub struct SledStore {
    db: sled::Db,
    trees: Vec<sled::Tree>,
}

impl SledStore {
    /// Opens (or creates) the store in `dir` with a page cache of `cache_mb`.
    pub fn open(dir: &Path, cache_mb: u64) -> Result<Self, StoreError> {
        let db = sled::Config::new()
            .path(dir.join("db"))
            .cache_capacity(cache_mb.saturating_mul(1024 * 1024))
            // Durability comes from the explicit flush before every ack; the
            // background flush only bounds how much an un-acked write may lose.
            .flush_every_ms(Some(1000))
            .open()
            .map_err(|e| match e {
                sled::Error::Io(io) if io.to_string().contains("could not acquire lock") => {
                    StoreError(format!(
                        "{} is in use by another process (is the relay running? stop it first)",
                        dir.display()
                    ))
                }
                other => StoreError(format!("cannot open {}: {other}", dir.display())),
            })?;
        let trees = TREES
            .iter()
            .map(|name| db.open_tree(name))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(SledStore { db, trees })
    }

    fn tree(&self, t: Tree) -> &sled::Tree {
        &self.trees[t as usize]
    }
}

impl Store for SledStore {
    fn write(&self, puts: &[Put]) -> Result<(), StoreError> {
        if puts.is_empty() {
            return Ok(());
        }
        let res: Result<(), TransactionError<()>> = self.trees[..].transaction(|views| {
            for p in puts {
                let view = &views[p.tree as usize];
                match &p.value {
                    Some(v) => view.insert(p.key.as_slice(), v.as_slice())?,
                    None => view.remove(p.key.as_slice())?,
                };
            }
            Ok::<(), ConflictableTransactionError<()>>(())
        });
        res.map_err(|e| StoreError(format!("{e:?}")))
    }

    fn flush(&self) -> FlushFuture<'_> {
        Box::pin(async move {
            self.db.flush_async().await?;
            Ok(())
        })
    }

    fn get(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.tree(tree).get(key)?.map(|v| v.to_vec()))
    }

    fn scan(&self, tree: Tree) -> Result<Vec<Entry>, StoreError> {
        self.tree(tree)
            .iter()
            .map(|r| {
                r.map(|(k, v)| (k.to_vec(), v.to_vec()))
                    .map_err(StoreError::from)
            })
            .collect()
    }

    fn range_from(&self, tree: Tree, from: &[u8], limit: usize) -> Result<Vec<Entry>, StoreError> {
        self.tree(tree)
            .range(from..)
            .take(limit)
            .map(|r| {
                r.map(|(k, v)| (k.to_vec(), v.to_vec()))
                    .map_err(StoreError::from)
            })
            .collect()
    }

    fn range_before_rev(
        &self,
        tree: Tree,
        before: &[u8],
        limit: usize,
    ) -> Result<Vec<Entry>, StoreError> {
        self.tree(tree)
            .range(..before)
            .rev()
            .take(limit)
            .map(|r| {
                r.map(|(k, v)| (k.to_vec(), v.to_vec()))
                    .map_err(StoreError::from)
            })
            .collect()
    }

    fn first(&self, tree: Tree) -> Result<Option<Entry>, StoreError> {
        Ok(self
            .tree(tree)
            .first()?
            .map(|(k, v)| (k.to_vec(), v.to_vec())))
    }

    fn last(&self, tree: Tree) -> Result<Option<Entry>, StoreError> {
        Ok(self
            .tree(tree)
            .last()?
            .map(|(k, v)| (k.to_vec(), v.to_vec())))
    }

    fn remove_below(&self, tree: Tree, below: &[u8]) -> Result<usize, StoreError> {
        let t = self.tree(tree);
        let mut batch = sled::Batch::default();
        let mut n = 0;
        for r in t.range(..below) {
            let (k, _) = r?;
            batch.remove(k);
            n += 1;
        }
        t.apply_batch(batch)?;
        Ok(n)
    }

    fn size_on_disk(&self) -> u64 {
        self.db.size_on_disk().unwrap_or(0)
    }
}

pub fn be(n: u64) -> [u8; 8] {
    n.to_be_bytes()
}

pub fn from_be(b: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    let n = b.len().min(8);
    a[8 - n..].copy_from_slice(&b[b.len() - n..]);
    u64::from_be_bytes(a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn writes_atomically_and_ranges() {
        let dir = tempfile::tempdir().unwrap();
        let s = SledStore::open(dir.path(), 8).unwrap();
        let puts: Vec<Put> = (1..=5u64)
            .map(|i| Put::set(Tree::Events, be(i), vec![i as u8]))
            .chain([Put::set(Tree::Orders, be(1), b"o".to_vec())])
            .collect();
        s.write(&puts).unwrap();
        s.flush().await.unwrap();
        assert_eq!(s.get(Tree::Orders, &be(1)).unwrap(), Some(b"o".to_vec()));
        let from3: Vec<u64> = s
            .range_from(Tree::Events, &be(3), 10)
            .unwrap()
            .iter()
            .map(|(k, _)| from_be(k))
            .collect();
        assert_eq!(from3, vec![3, 4, 5]);
        let rev: Vec<u64> = s
            .range_before_rev(Tree::Events, &be(4), 2)
            .unwrap()
            .iter()
            .map(|(k, _)| from_be(k))
            .collect();
        assert_eq!(rev, vec![3, 2]);
        assert_eq!(s.remove_below(Tree::Events, &be(3)).unwrap(), 2);
        assert_eq!(
            s.first(Tree::Events).unwrap().map(|(k, _)| from_be(&k)),
            Some(3)
        );
        assert_eq!(
            s.last(Tree::Events).unwrap().map(|(k, _)| from_be(&k)),
            Some(5)
        );
        s.write(&[Put::delete(Tree::Orders, be(1).to_vec())])
            .unwrap();
        assert_eq!(s.get(Tree::Orders, &be(1)).unwrap(), None);
    }

    #[test]
    fn second_open_is_refused_plainly() {
        let dir = tempfile::tempdir().unwrap();
        let _a = SledStore::open(dir.path(), 8).unwrap();
        let err = SledStore::open(dir.path(), 8)
            .err()
            .expect("second open must fail");
        assert!(err.0.contains("in use"), "{err}");
    }
}
