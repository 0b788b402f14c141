-- What a turn carries besides its text (JSON): the point groups of a Point-Explanations
-- question, the parsed answer or why it was sent back.
ALTER TABLE ama_turns ADD COLUMN detail TEXT;

-- The Point-Explanations trail: each question with its point groups, every draft, every
-- automatic send-back (an answer that cites no marked point or one that was not marked),
-- the annotator's feedback, revisions, the acceptance.
CREATE TABLE explanation_turns (
    task_id BIGINT NOT NULL REFERENCES tasks (id),
    seq BIGINT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('question', 'draft', 'send_back', 'feedback', 'revision', 'accept')),
    annotator_id TEXT NOT NULL REFERENCES annotators (id),
    text TEXT NOT NULL,
    detail TEXT,
    model_name TEXT,
    model_sha256 TEXT,
    prompt_id TEXT,
    prompt_sha256 TEXT,
    parameters TEXT,
    started_at BIGINT NOT NULL,
    finished_at BIGINT NOT NULL,
    PRIMARY KEY (task_id, seq)
);
