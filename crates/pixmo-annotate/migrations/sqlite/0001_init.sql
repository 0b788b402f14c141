-- Annotators log in with an invite token; only its SHA-256 is stored.
CREATE TABLE annotators (
    id TEXT PRIMARY KEY,
    pseudonym TEXT NOT NULL UNIQUE,
    token_sha256 TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    disabled BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE sessions (
    token_sha256 TEXT PRIMARY KEY,
    annotator_id TEXT NOT NULL REFERENCES annotators (id),
    csrf_token TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE TABLE images (
    sha256 TEXT PRIMARY KEY,
    path TEXT NOT NULL,
    source_id TEXT NOT NULL,
    format TEXT NOT NULL,
    width BIGINT NOT NULL,
    height BIGINT NOT NULL,
    caption TEXT,
    caption_source TEXT NOT NULL DEFAULT 'none',
    ocr_json TEXT,
    created_at BIGINT NOT NULL
);

CREATE TABLE tasks (
    id INTEGER PRIMARY KEY,
    image_sha256 TEXT NOT NULL REFERENCES images (sha256),
    kind TEXT NOT NULL CHECK (kind IN ('points', 'ask_model_anything', 'point_explanations')),
    mode TEXT NOT NULL CHECK (mode IN ('pointing', 'counting')),
    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'claimed', 'done')),
    annotator_id TEXT REFERENCES annotators (id),
    lease_until BIGINT,
    claimed_at BIGINT,
    submitted_at BIGINT,
    state TEXT NOT NULL DEFAULT '{}',
    saves BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);
CREATE INDEX tasks_by_status ON tasks (kind, status, id);
CREATE INDEX tasks_by_annotator ON tasks (annotator_id, status);

-- The AskModelAnything trail: the question, every draft, feedback and revision, the acceptance.
CREATE TABLE ama_turns (
    task_id BIGINT NOT NULL REFERENCES tasks (id),
    seq BIGINT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('question', 'draft', 'feedback', 'revision', 'accept')),
    annotator_id TEXT NOT NULL REFERENCES annotators (id),
    text TEXT NOT NULL,
    model_name TEXT,
    model_sha256 TEXT,
    prompt_id TEXT,
    prompt_sha256 TEXT,
    parameters TEXT,
    started_at BIGINT NOT NULL,
    finished_at BIGINT NOT NULL,
    PRIMARY KEY (task_id, seq)
);
