using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Uet.Telemetry;

/// <summary>
/// uet's traces and metrics through System.Diagnostics: a span per run, task, attempt, tool call, patch apply and
/// validator, and a counter of task transitions by state. Nothing is recorded unless something listens (the CLI's
/// OTLP exporter when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set, the JSON lines log), so the engine pays nothing otherwise.
/// Spans nest through <see cref="Activity.Current"/>, which flows with the async calls.
/// </summary>
public static class UetTelemetry
{
    public const string SourceName = "Uet";

    public const string RunIdTag = "uet.run_id";
    public const string WorkstreamTag = "uet.workstream_id";
    public const string AttemptTag = "uet.attempt";

    public static readonly ActivitySource Source = new(SourceName, typeof(UetTelemetry).Assembly.GetName().Version?.ToString());

    public static readonly Meter Meter = new(SourceName, typeof(UetTelemetry).Assembly.GetName().Version?.ToString());

    /// <summary>Tasks entering each state (tag <c>state</c>): created tasks count as pending.</summary>
    public static readonly Counter<long> TaskTransitions = Meter.CreateCounter<long>("uet.tasks", "{task}", "Tasks entering a state, by state.");

    public static Activity? StartRun(string runId, bool resuming) =>
        Source.StartActivity(resuming ? "uet.run.resume" : "uet.run", ActivityKind.Internal)?.SetTag(RunIdTag, runId);

    public static Activity? StartTask(string runId, string workstreamId) =>
        Source.StartActivity("uet.task")?.SetTag(RunIdTag, runId).SetTag(WorkstreamTag, workstreamId);

    public static Activity? StartAttempt(string runId, string workstreamId, int attempt) =>
        Source.StartActivity("uet.attempt")?.SetTag(RunIdTag, runId).SetTag(WorkstreamTag, workstreamId).SetTag(AttemptTag, attempt);

    /// <summary>One process a task runs: the tool, or an acceptance command.</summary>
    public static Activity? StartToolCall(string runId, string workstreamId, string program) =>
        Source.StartActivity("uet.tool")?.SetTag(RunIdTag, runId).SetTag(WorkstreamTag, workstreamId).SetTag("uet.program", program);

    public static Activity? StartPatchApply(string runId, string workstreamId, string? sha256) =>
        Source.StartActivity("uet.patch.apply")?.SetTag(RunIdTag, runId).SetTag(WorkstreamTag, workstreamId).SetTag("uet.patch.sha256", sha256);

    /// <summary>One validator run; <paramref name="parent"/> is the patch's own span when another submitter's flow runs it.</summary>
    public static Activity? StartValidator(string runId, string workstreamId, string validator, ActivityContext parent = default) =>
        Source.StartActivity("uet.validator", ActivityKind.Internal, parent)?.SetTag(RunIdTag, runId).SetTag(WorkstreamTag, workstreamId).SetTag("uet.validator", validator);

    /// <summary>Marks a span as failed with a one-line reason.</summary>
    public static void Fail(Activity? activity, string? reason)
    {
        if (activity is not null)
        {
            activity.SetStatus(ActivityStatusCode.Error, reason?.Split('\n')[0]);
        }
    }
}
