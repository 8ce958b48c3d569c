-- uet state, version 3: what each attempt's tool spent, as it printed it (AI coding CLIs report cost and tokens),
-- so that max_cost_usd can stop a workstream and reports can add it up. NULL = the tool did not say.
ALTER TABLE steps ADD COLUMN tool TEXT;
ALTER TABLE steps ADD COLUMN cost_usd REAL CHECK (cost_usd IS NULL OR cost_usd >= 0);
ALTER TABLE steps ADD COLUMN input_tokens INTEGER CHECK (input_tokens IS NULL OR input_tokens >= 0);
ALTER TABLE steps ADD COLUMN output_tokens INTEGER CHECK (output_tokens IS NULL OR output_tokens >= 0);
