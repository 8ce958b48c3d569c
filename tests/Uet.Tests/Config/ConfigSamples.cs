namespace Uet.Tests.Config;

/// <summary>Config texts shared by the loader tests.</summary>
internal static class ConfigSamples
{
    /// <summary>Sets every key to a value other than its default.</summary>
    public const string Full = """
        project:
          name: shop
          type: dotnet
          root: src
        execution:
          max_workers: 8
          retry_policy:
            max_retries: 5
            backoff_seconds: 1.5
          workstream_dir: plans
          workstream_pattern: "*.json"
          state_db: db/state.db
          log_dir: out/logs
          default_tool: claude
          default_estimate_minutes: 12.5
          tool_config:
            aider:
              model: gpt-4o
              timeout: 600
              api_base: ~
              extra_args: [--no-auto-commits, --yes]
              env: {FOO: 1}
        isolation:
          strategy: none
          worktree_dir: tmp/wt
        adapters:
          enabled: [claude, command]
          routing:
            - pattern: "ws-docs-*"
              tool: claude
            - {pattern: "*", tool: command}
        state_machines:
          task:
            states: [pending, running, done]
            custom: true
        dag:
          enabled: false
          max_wave_parallelism: 3
          topological_sort: kahn
        validation:
          validators:
            - name: build
              run: [dotnet, build, -c, Release]
              gate: GATE_LINT
            - name: tests
              run:
                - dotnet
                - test
              gate: GATE_UNIT
            - name: audit
              run: [./audit.sh]
        integration:
          branch: "results/{run_id}"
          merge_into: main
        """;
}
