//! Checking a large file's rows on two threads while the reading thread parses it.

use minzheng_domain::registry::ledger::Ledger;

use super::checker::Checker;
use super::CHECKERS;

/// Rows read but not yet checked, and how many of `items` are in use: the buffers go back
/// and forth between the threads and keep their allocations.
pub(super) struct Batch<T> {
    pub(super) items: Vec<T>,
    pub(super) len: usize,
}

impl<T> Default for Batch<T> {
    fn default() -> Self {
        Batch {
            items: Vec::new(),
            len: 0,
        }
    }
}

/// One checked batch: its number and the rows it added, in a ledger of their own.
struct Checked {
    seq: usize,
    part: Ledger,
}

/// Checks batches of rows on [`CHECKERS`] threads, each with its own copy of the header's
/// checker, and appends the checked rows to the reader's ledger in file order as they come
/// back (so the rows are never held twice).
pub(super) struct Fanout<'scope, T> {
    queues: Vec<std::sync::mpsc::SyncSender<(usize, Batch<T>)>>,
    spent: std::sync::mpsc::Receiver<Batch<T>>,
    checked: std::sync::mpsc::Receiver<Checked>,
    workers: Vec<std::thread::ScopedJoinHandle<'scope, ()>>,
    waiting: std::collections::BTreeMap<usize, Ledger>,
    sent: usize,
    next: usize,
}

impl<'scope, T: Send + 'scope> Fanout<'scope, T> {
    pub(super) fn start<'env>(
        s: &'scope std::thread::Scope<'scope, 'env>,
        checker: &Checker,
        work: impl Fn(&mut Checker, &[T]) + Send + Copy + 'scope,
    ) -> Self {
        let (spent_tx, spent) = std::sync::mpsc::sync_channel::<Batch<T>>(CHECKERS * 3);
        let (checked_tx, checked) = std::sync::mpsc::channel::<Checked>();
        let mut queues = Vec::with_capacity(CHECKERS);
        let mut workers = Vec::with_capacity(CHECKERS);
        for _ in 0..CHECKERS {
            let (tx, rx) = std::sync::mpsc::sync_channel::<(usize, Batch<T>)>(2);
            let mut ch = checker.fork();
            let (spent_tx, checked_tx) = (spent_tx.clone(), checked_tx.clone());
            workers.push(s.spawn(move || {
                for (seq, mut batch) in rx {
                    work(&mut ch, &batch.items[..batch.len]);
                    let part = std::mem::take(&mut ch.ledger);
                    if checked_tx.send(Checked { seq, part }).is_err() {
                        return;
                    }
                    batch.len = 0;
                    // The reader makes a new buffer when none is waiting.
                    let _ = spent_tx.try_send(batch);
                }
            }));
            queues.push(tx);
        }
        Fanout {
            queues,
            spent,
            checked,
            workers,
            waiting: std::collections::BTreeMap::new(),
            sent: 0,
            next: 0,
        }
    }

    /// A buffer for the next batch: one the threads are done with, or a new one.
    pub(super) fn spare(&self) -> Batch<T> {
        self.spent.try_recv().unwrap_or_default()
    }

    /// Hands a batch to the next thread and appends the batches that came back. False when
    /// that thread has stopped (it panicked: `finish` reports it).
    pub(super) fn send(&mut self, batch: Batch<T>, ledger: &mut Ledger) -> bool {
        let ok = self.queues[self.sent % CHECKERS]
            .send((self.sent, batch))
            .is_ok();
        self.sent += 1;
        while let Ok(got) = self.checked.try_recv() {
            self.next = append_in_order(ledger, &mut self.waiting, self.next, got);
        }
        ok
    }

    /// Sends the last (partial) batch, waits for the threads and appends the rest.
    pub(super) fn finish(mut self, last: Option<Batch<T>>, ledger: &mut Ledger) {
        if let Some(b) = last.filter(|b| b.len > 0) {
            self.send(b, ledger);
        }
        let Fanout {
            queues,
            checked,
            workers,
            mut waiting,
            mut next,
            ..
        } = self;
        drop(queues);
        for got in checked {
            next = append_in_order(ledger, &mut waiting, next, got);
        }
        for w in workers {
            w.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
        }
    }
}

/// Appends checked batches to `ledger` in their order; returns the next batch number due.
fn append_in_order(
    ledger: &mut Ledger,
    waiting: &mut std::collections::BTreeMap<usize, Ledger>,
    mut next: usize,
    got: Checked,
) -> usize {
    waiting.insert(got.seq, got.part);
    while let Some(part) = waiting.remove(&next) {
        ledger.append(part);
        next += 1;
    }
    next
}
