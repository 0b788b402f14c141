//! Minimum-cost assignment (the Hungarian method with potentials, O(n²·m) for n ≤ m):
//! what SciPy's `linear_sum_assignment` computes, which Molmo's pointing evaluation uses to
//! match predicted points to gold points by distance.

/// Pairs `(row, column)` of a minimum-cost assignment of `rows` to `cols`: every row is
/// matched when `rows <= cols`, every column otherwise (`min(rows, cols)` pairs, sorted by
/// row). `cost(row, column)` must be finite; a non-finite cost counts as 1e18.
#[must_use]
pub fn min_cost_assignment(
    rows: usize,
    cols: usize,
    cost: impl Fn(usize, usize) -> f64,
) -> Vec<(usize, usize)> {
    let finite = |c: f64| if c.is_finite() { c } else { 1e18 };
    if rows > cols {
        let mut pairs: Vec<(usize, usize)> = solve(cols, rows, |i, j| finite(cost(j, i)))
            .into_iter()
            .map(|(c, r)| (r, c))
            .collect();
        pairs.sort_unstable();
        return pairs;
    }
    solve(rows, cols, |i, j| finite(cost(i, j)))
}

/// Shortest augmenting paths with row and column potentials; `n <= m`.
fn solve(n: usize, m: usize, cost: impl Fn(usize, usize) -> f64) -> Vec<(usize, usize)> {
    // 1-based: row 0 and column 0 are the virtual start of each augmenting path.
    let mut u = vec![0.0f64; n + 1];
    let mut v = vec![0.0f64; m + 1];
    let mut row_of = vec![0usize; m + 1];
    let mut way = vec![0usize; m + 1];
    for i in 1..=n {
        row_of[0] = i;
        let mut j0 = 0;
        let mut min_v = vec![f64::INFINITY; m + 1];
        let mut used = vec![false; m + 1];
        loop {
            used[j0] = true;
            let i0 = row_of[j0];
            let mut delta = f64::INFINITY;
            let mut j1 = 0;
            for j in 1..=m {
                if used[j] {
                    continue;
                }
                let reduced = cost(i0 - 1, j - 1) - u[i0] - v[j];
                if reduced < min_v[j] {
                    min_v[j] = reduced;
                    way[j] = j0;
                }
                if min_v[j] < delta {
                    delta = min_v[j];
                    j1 = j;
                }
            }
            if j1 == 0 {
                // Only with no free column left, which n <= m rules out.
                break;
            }
            for j in 0..=m {
                if used[j] {
                    u[row_of[j]] += delta;
                    v[j] -= delta;
                } else {
                    min_v[j] -= delta;
                }
            }
            j0 = j1;
            if row_of[j0] == 0 {
                break;
            }
        }
        while j0 != 0 {
            let j1 = way[j0];
            row_of[j0] = row_of[j1];
            j0 = j1;
        }
    }
    let mut pairs: Vec<(usize, usize)> = (1..=m)
        .filter(|&j| row_of[j] != 0)
        .map(|j| (row_of[j] - 1, j - 1))
        .collect();
    pairs.sort_unstable();
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SplitMix64, enough for test matrices.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }
    }

    /// The cheapest assignment by trying every injective map of the smaller side.
    fn brute_force(rows: usize, cols: usize, cost: &[f64]) -> f64 {
        fn go(r: usize, rows: usize, cols: usize, cost: &[f64], used: &mut [bool]) -> f64 {
            if r == rows {
                return 0.0;
            }
            let mut best = f64::INFINITY;
            for c in 0..cols {
                if !used[c] {
                    used[c] = true;
                    best = best.min(cost[r * cols + c] + go(r + 1, rows, cols, cost, used));
                    used[c] = false;
                }
            }
            best
        }
        if rows <= cols {
            go(0, rows, cols, cost, &mut vec![false; cols])
        } else {
            let t: Vec<f64> = (0..cols * rows)
                .map(|k| cost[(k % rows) * cols + k / rows])
                .collect();
            go(0, cols, rows, &t, &mut vec![false; rows])
        }
    }

    #[test]
    fn matches_brute_force_on_random_rectangular_matrices() {
        let mut rng = Rng(7);
        for case in 0..3000 {
            let rows = (rng.next() % 7) as usize;
            let cols = (rng.next() % 7) as usize;
            // Small integer costs make ties common, the case that breaks greedy matching.
            let integer = case % 2 == 0;
            let cost: Vec<f64> = (0..rows * cols)
                .map(|_| {
                    if integer {
                        (rng.next() % 5) as f64
                    } else {
                        (rng.next() % 1_000_000) as f64 / 1000.0
                    }
                })
                .collect();
            let pairs = min_cost_assignment(rows, cols, |r, c| cost[r * cols + c]);
            assert_eq!(pairs.len(), rows.min(cols), "{rows}x{cols}");
            let mut seen_r = vec![false; rows];
            let mut seen_c = vec![false; cols];
            for &(r, c) in &pairs {
                assert!(!seen_r[r] && !seen_c[c], "{pairs:?}");
                seen_r[r] = true;
                seen_c[c] = true;
            }
            let total: f64 = pairs.iter().map(|&(r, c)| cost[r * cols + c]).sum();
            let best = brute_force(rows, cols, &cost);
            assert!(
                (total - best).abs() < 1e-6,
                "{rows}x{cols} {cost:?}: {total} vs {best}"
            );
        }
    }

    #[test]
    fn greedy_nearest_is_not_optimal_here_but_this_is() {
        // Greedy would match row 0 to column 0 (cost 1) and pay 10 for row 1.
        let cost = [[1.0, 2.0], [2.0, 10.0]];
        let pairs = min_cost_assignment(2, 2, |r, c| cost[r][c]);
        assert_eq!(pairs, [(0, 1), (1, 0)]);
        assert_eq!(min_cost_assignment(0, 3, |_, _| 0.0), []);
        assert_eq!(min_cost_assignment(2, 1, |r, _| [5.0, 1.0][r]), [(1, 0)]);
        let nan = min_cost_assignment(2, 2, |r, c| if r == c { f64::NAN } else { 1.0 });
        assert_eq!(nan, [(0, 1), (1, 0)]);
    }

    #[test]
    fn hundreds_of_points_assign_quickly() {
        let mut rng = Rng(3);
        let n = 300;
        let cost: Vec<f64> = (0..n * n).map(|_| (rng.next() % 10_000) as f64).collect();
        let pairs = min_cost_assignment(n, n, |r, c| cost[r * n + c]);
        assert_eq!(pairs.len(), n);
    }
}
