namespace Uet.Config;

/// <summary>
/// The config <c>uet init</c> writes to <c>.uet/config.yaml</c>: every key at its default, with a
/// comment, so users edit values instead of looking keys up. A test keeps it equal to
/// <see cref="UetConfig.Default"/>.
/// </summary>
public static class DefaultConfigYaml
{
    public const string Text = """
        # uet configuration. Every key is optional; the values below are the defaults.

        project:
          name: null                # project name in reports; null = the repository folder's name
          type: generic             # kind of project, shown in reports
          root: "."                 # repository root, relative to the folder holding .uet/

        execution:
          max_workers: 4            # tasks run at the same time (at least 1)
          retry_policy:
            max_retries: 2          # extra attempts after a task fails (0 = never retry)
            backoff_seconds: 5.0    # wait before each retry, in seconds
          workstream_dir: workstreams              # folder holding the workstream files
          workstream_pattern: "ws-*.{json,yaml,yml}"  # which files in it are workstreams
          state_db: .state/uet.db   # SQLite database recording runs, tasks and events
          log_dir: logs/uet         # per-task tool logs
          default_tool: command     # tool for workstreams that name none and match no routing rule
          default_estimate_minutes: 30  # planning estimate for workstreams without 'estimate'
          tool_config: {}           # per-tool settings passed to its adapter (API keys never: they stay in the environment), e.g.
          #   claude:
          #     model: claude-sonnet-4-5
          #     timeout: 45m                   # the tool's default time limit; a workstream's timeout wins
          #     permission_mode: acceptEdits   # edits without asking; bypassPermissions lets it run commands too
          #   codex:
          #     model: gpt-5-codex
          #     sandbox: workspace-write       # or danger-full-access where its sandbox cannot work
          #     config: {model_reasoning_effort: high}   # passed as -c key=value
          #   gemini:
          #     approval_mode: auto_edit
          #     usd_per_1m_input_tokens: 0.3   # prices tokens of a tool that prints no cost
          #     usd_per_1m_output_tokens: 2.5
          #   aider:
          #     program: /opt/aider/bin/aider  # a name on PATH or an absolute path
          #     model: gpt-4o
          #     args: [--map-tokens, "1024"]   # extra arguments, after uet's
          #     env: {AIDER_EDIT_FORMAT: diff} # extra variables (no secrets)

        isolation:
          strategy: worktree        # worktree = each task in its own git worktree; none = in the repository
          worktree_dir: .worktrees  # where task worktrees are created

        adapters:
          enabled:                  # tools uet may run
            - aider
            - codex
            - claude
            - gemini
            - command
            - tests
          routing: []               # first match picks the tool: a workstream id, or a scope path, e.g.
          #   - pattern: "ws-docs-*"  # workstream ids
          #     tool: claude
          #   - pattern: "*.py"       # a scope path whose file name matches, in any folder
          #     tool: aider
          #   - pattern: "web/**"     # a scope path under web/
          #     tool: codex

        state_machines: {}          # kept for compatibility with the original plan; uet's are built in

        dag:
          enabled: true             # order tasks by depends_on (false = run in file order)
          max_wave_parallelism: null  # most tasks of one wave at a time; null = limited by max_workers only
          topological_sort: kahn    # ordering algorithm; only kahn is supported

        validation:
          validators: []            # run on the integration branch after each patch; a failure rolls it back, e.g.
          #   - name: build
          #     run: [dotnet, build]
          #     gate: GATE_LINT     # GATE_LINT, GATE_UNIT, GATE_INTEGRATION or GATE_SECURITY (optional)

        integration:
          branch: "uet/{run_id}"    # branch results are committed to; {run_id} is the run's id
          merge_into: null          # branch fast-forwarded to the results after the run (e.g. main); null = none
          batch_size: 1             # patches validated together; a failure is bisected to its patch (same result, fewer validator runs)

        """;
}
