-- uet state, version 4: the config a run started with (the text of .uet/config.yaml, '' for the defaults), so that a
-- resume goes on with the same validators, retries and tools even if the file changed since. NULL = recorded by an
-- older uet: a resume then reads the file.
ALTER TABLE runs ADD COLUMN config TEXT;
