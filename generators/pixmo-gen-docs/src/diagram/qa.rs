//! Question-answer pairs computed from a diagram's graph. Every extractive answer is a node
//! label, title or year printed in the diagram, copied exactly.

use pixmo_core::Rng;

use crate::diagram::graph::{Graph, NodeKind};
use crate::{FigureKind, Qa, REFUSAL};

struct Out<'a> {
    qa: Vec<Qa>,
    rng: &'a mut Rng,
}

impl Out<'_> {
    fn push(&mut self, question: String, explanation: String, answer: String, qa_type: &str) {
        self.qa.push(Qa {
            question,
            explanation,
            answer,
            qa_type: qa_type.to_owned(),
        });
    }

    /// A balanced yes/no about whether `a -> b` is an edge, among `candidates`.
    fn edge_question(&mut self, g: &Graph, candidates: &[usize]) -> Option<(usize, usize, bool)> {
        let want = self.rng.bool(0.5);
        let mut pairs = Vec::new();
        for &a in candidates {
            for &b in candidates {
                if a != b && g.has_edge(a, b) == want {
                    pairs.push((a, b));
                }
            }
        }
        self.rng.choose(&pairs).map(|&(a, b)| (a, b, want))
    }
}

fn yes_no(b: bool) -> String {
    if b { "Yes".into() } else { "No".into() }
}

/// QA for a diagram of `kind`.
pub fn diagram_qa(kind: FigureKind, g: &Graph, rng: &mut Rng) -> Vec<Qa> {
    let mut out = Out {
        qa: Vec::new(),
        rng,
    };
    out.push(
        "What is the title of the diagram?".into(),
        format!("The heading reads \"{}\".", g.title),
        g.title.clone(),
        "retrieval",
    );
    match kind {
        FigureKind::Flowchart => flowchart(&mut out, g),
        FigureKind::OrgChart => org_chart(&mut out, g),
        FigureKind::Timeline => timeline(&mut out, g),
        _ => network(&mut out, g),
    }
    out.qa
}

fn label(g: &Graph, i: usize) -> &str {
    &g.nodes[i].label
}

fn flowchart(out: &mut Out<'_>, g: &Graph) {
    let of = |k: NodeKind| (0..g.nodes.len()).filter(move |i| g.nodes[*i].kind == k);
    let decisions: Vec<usize> = of(NodeKind::Decision).collect();
    let processes: Vec<usize> = of(NodeKind::Process).collect();
    out.push(
        "How many decision points does the flowchart have?".into(),
        format!(
            "The diamonds are: {}.",
            decisions
                .iter()
                .map(|d| label(g, *d))
                .collect::<Vec<_>>()
                .join("; ")
        ),
        decisions.len().to_string(),
        "count",
    );
    out.push(
        "How many process steps (rectangles) are shown?".into(),
        format!(
            "The rectangles are: {}.",
            processes
                .iter()
                .map(|d| label(g, *d))
                .collect::<Vec<_>>()
                .join("; ")
        ),
        processes.len().to_string(),
        "count",
    );
    if let [first] = g.successors(0)[..] {
        out.push(
            "What is the first step after Start?".into(),
            format!("The arrow from Start points to \"{}\".", label(g, first)),
            label(g, first).to_owned(),
            "retrieval",
        );
    }
    let singles: Vec<usize> = processes
        .iter()
        .copied()
        .filter(|p| g.successors(*p).len() == 1)
        .collect();
    if let Some(&p) = out.rng.choose(&singles) {
        let next = g.successors(p)[0];
        out.push(
            format!("Which step comes directly after \"{}\"?", label(g, p)),
            format!(
                "The only arrow leaving \"{}\" leads to \"{}\".",
                label(g, p),
                label(g, next)
            ),
            label(g, next).to_owned(),
            "reasoning",
        );
    }
    if let Some(&d) = out.rng.choose(&decisions) {
        let answer = if out.rng.bool(0.5) { "Yes" } else { "No" };
        if let Some(e) = g
            .edges
            .iter()
            .find(|e| e.from == d && e.label.as_deref() == Some(answer))
        {
            out.push(
                format!(
                    "What happens next if the answer to \"{}\" is {answer}?",
                    label(g, d)
                ),
                format!(
                    "The arrow labelled {answer} leads to \"{}\".",
                    label(g, e.to)
                ),
                label(g, e.to).to_owned(),
                "reasoning",
            );
        }
    }
    // Steps on the all-"Yes" path from Start to End.
    let mut node = 0;
    let mut path = Vec::new();
    for _ in 0..g.nodes.len() {
        let next = g
            .edges
            .iter()
            .find(|e| e.from == node && e.label.as_deref() != Some("No"))
            .map(|e| e.to);
        match next {
            Some(n) if g.nodes[n].kind != NodeKind::Terminal => {
                if g.nodes[n].kind == NodeKind::Process {
                    path.push(n);
                }
                node = n;
            }
            _ => break,
        }
    }
    out.push(
        "If every decision is answered Yes, how many process steps are carried out between Start and End?".into(),
        format!("Following the Yes arrows passes through: {}.", path.iter().map(|p| label(g, *p)).collect::<Vec<_>>().join(", ")),
        path.len().to_string(),
        "compositional",
    );
    let all: Vec<usize> = (0..g.nodes.len()).collect();
    if let Some((a, b, yes)) = out.edge_question(g, &all) {
        out.push(
            format!(
                "Is there a direct arrow from \"{}\" to \"{}\"?",
                label(g, a),
                label(g, b)
            ),
            if yes {
                "An arrow joins them directly.".into()
            } else {
                "No arrow goes directly between them.".into()
            },
            yes_no(yes),
            "yes_no",
        );
    }
    if let Some(&p) = out.rng.choose(&processes) {
        out.push(
            format!("How long does the step \"{}\" take?", label(g, p)),
            "The flowchart shows no durations.".into(),
            REFUSAL.into(),
            "unanswerable",
        );
    }
}

fn org_chart(out: &mut Out<'_>, g: &Graph) {
    let n = g.nodes.len();
    let title = |i: usize| g.nodes[i].detail.clone().unwrap_or_default();
    out.push(
        "Who is at the top of the organisation chart?".into(),
        format!("The top box is {}, {}.", label(g, 0), title(0)),
        label(g, 0).to_owned(),
        "retrieval",
    );
    out.push(
        "How many people are shown in the chart?".into(),
        format!("There are {n} boxes."),
        n.to_string(),
        "count",
    );
    let i = 1 + out.rng.index(n - 1);
    out.push(
        format!("What is the title of {}?", label(g, i)),
        format!("The box of {} reads {}.", label(g, i), title(i)),
        title(i),
        "retrieval",
    );
    let j = 1 + out.rng.index(n - 1);
    if let [boss] = g.predecessors(j)[..] {
        out.push(
            format!("Who does {} report to?", label(g, j)),
            format!(
                "The line above {} leads to {}.",
                label(g, j),
                label(g, boss)
            ),
            label(g, boss).to_owned(),
            "reasoning",
        );
    }
    let managers: Vec<usize> = (0..n).filter(|i| !g.successors(*i).is_empty()).collect();
    if let Some(&m) = out.rng.choose(&managers) {
        let kids = g.successors(m);
        out.push(
            format!("How many direct reports does {} have?", label(g, m)),
            format!(
                "Lines lead from {} to {}.",
                label(g, m),
                kids.iter()
                    .map(|k| label(g, *k))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            kids.len().to_string(),
            "count",
        );
        let mut below = 0;
        let mut stack = kids;
        while let Some(k) = stack.pop() {
            below += 1;
            stack.extend(g.successors(k));
        }
        out.push(
            format!(
                "How many people are below {} in the chart, directly or indirectly?",
                label(g, m)
            ),
            format!("Counting every box under {} gives {below}.", label(g, m)),
            below.to_string(),
            "compositional",
        );
    }
    let all: Vec<usize> = (0..n).collect();
    if let Some((a, b, yes)) = out.edge_question(g, &all) {
        out.push(
            format!("Does {} report directly to {}?", label(g, b), label(g, a)),
            if yes {
                format!("{} sits directly under {}.", label(g, b), label(g, a))
            } else {
                format!(
                    "No line joins {} directly under {}.",
                    label(g, b),
                    label(g, a)
                )
            },
            yes_no(yes),
            "yes_no",
        );
    }
    out.push(
        format!("What is the salary of {}?", label(g, i)),
        "The chart shows names and titles only.".into(),
        REFUSAL.into(),
        "unanswerable",
    );
}

fn timeline(out: &mut Out<'_>, g: &Graph) {
    let n = g.nodes.len();
    let year = |i: usize| -> i64 {
        g.nodes[i]
            .detail
            .as_deref()
            .and_then(|y| y.parse().ok())
            .unwrap_or(0)
    };
    out.push(
        "How many events are shown on the timeline?".into(),
        format!(
            "The events are: {}.",
            g.nodes
                .iter()
                .map(|e| e.label.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        ),
        n.to_string(),
        "count",
    );
    let i = out.rng.index(n);
    out.push(
        format!("In which year did \"{}\" happen?", label(g, i)),
        format!("The year under \"{}\" is {}.", label(g, i), year(i)),
        year(i).to_string(),
        "retrieval",
    );
    out.push(
        "Which event happened first?".into(),
        format!("The earliest year is {}, for \"{}\".", year(0), label(g, 0)),
        label(g, 0).to_owned(),
        "comparison",
    );
    out.push(
        "Which event is the most recent?".into(),
        format!(
            "The latest year is {}, for \"{}\".",
            year(n - 1),
            label(g, n - 1)
        ),
        label(g, n - 1).to_owned(),
        "comparison",
    );
    let a = out.rng.index(n);
    let b = (a + 1 + out.rng.index(n - 1)) % n;
    let (a, b) = (a.min(b), a.max(b));
    out.push(
        format!(
            "How many years passed between \"{}\" and \"{}\"?",
            label(g, a),
            label(g, b)
        ),
        format!("{} - {} = {}.", year(b), year(a), year(b) - year(a)),
        (year(b) - year(a)).to_string(),
        "compositional",
    );
    let want = out.rng.bool(0.5);
    let (x, y) = if want { (a, b) } else { (b, a) };
    out.push(
        format!("Did \"{}\" happen before \"{}\"?", label(g, x), label(g, y)),
        format!(
            "{} is {} {}.",
            year(x),
            if want { "earlier than" } else { "later than" },
            year(y)
        ),
        yes_no(want),
        "yes_no",
    );
    let k = 1 + out.rng.index(n - 1);
    let cut = year(k);
    out.push(
        format!("How many events happened before {cut}?"),
        format!("The events dated before {cut} are the first {k}."),
        (0..n).filter(|i| year(*i) < cut).count().to_string(),
        "count",
    );
    out.push(
        format!("On which day of the month did \"{}\" happen?", label(g, i)),
        "The timeline gives years only.".into(),
        REFUSAL.into(),
        "unanswerable",
    );
}

fn network(out: &mut Out<'_>, g: &Graph) {
    let n = g.nodes.len();
    out.push(
        "How many nodes does the network have?".into(),
        format!(
            "The nodes are {}.",
            g.nodes
                .iter()
                .map(|x| x.label.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        n.to_string(),
        "count",
    );
    out.push(
        "How many links are drawn in total?".into(),
        format!("Counting the lines between nodes gives {}.", g.edges.len()),
        g.edges.len().to_string(),
        "count",
    );
    let i = out.rng.index(n);
    let nb = g.neighbours(i);
    out.push(
        format!("How many connections does {} have?", label(g, i)),
        format!(
            "{} is linked to {}.",
            label(g, i),
            nb.iter()
                .map(|k| label(g, *k))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        nb.len().to_string(),
        "count",
    );
    let degrees: Vec<usize> = (0..n).map(|k| g.neighbours(k).len()).collect();
    let max = degrees.iter().copied().max().unwrap_or(0);
    let top: Vec<usize> = (0..n).filter(|k| degrees[*k] == max).collect();
    if let [only] = top[..] {
        out.push(
            "Which node has the most connections?".into(),
            format!(
                "{} has {max} links, more than any other node.",
                label(g, only)
            ),
            label(g, only).to_owned(),
            "comparison",
        );
    }
    let all: Vec<usize> = (0..n).collect();
    if let Some((a, b, yes)) = out.edge_question(g, &all) {
        out.push(
            format!(
                "Are {} and {} directly connected?",
                label(g, a),
                label(g, b)
            ),
            if yes {
                "A line joins them.".into()
            } else {
                "No line joins them directly.".into()
            },
            yes_no(yes),
            "yes_no",
        );
    }
    let e = &g.edges[out.rng.index(g.edges.len())];
    out.push(
        format!(
            "What is the bandwidth of the link between {} and {}?",
            label(g, e.from),
            label(g, e.to)
        ),
        "The diagram shows links but no capacities.".into(),
        REFUSAL.into(),
        "unanswerable",
    );
}
