//! Work over several threads, results in order.

/// `f` over `items` on up to `workers` threads, results in order, with a
/// state per thread made by `init`.
pub(super) fn par_map_with<I: Sync, T: Send, S>(
    items: &[I],
    workers: usize,
    init: impl Fn() -> S + Sync,
    f: impl Fn(&mut S, &I) -> T + Sync,
) -> Vec<T> {
    if workers <= 1 || items.len() < 1024 {
        let mut st = init();
        return items.iter().map(|i| f(&mut st, i)).collect();
    }
    let chunk = items.len().div_ceil(workers);
    let (f, init) = (&f, &init);
    std::thread::scope(|s| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|part| {
                s.spawn(move || {
                    let mut st = init();
                    part.iter().map(|i| f(&mut st, i)).collect::<Vec<T>>()
                })
            })
            .collect();
        let mut out = Vec::with_capacity(items.len());
        for h in handles {
            match h.join() {
                Ok(v) => out.extend(v),
                // A panic in a helper is a bug; let it surface as one.
                Err(p) => std::panic::resume_unwind(p),
            }
        }
        out
    })
}
