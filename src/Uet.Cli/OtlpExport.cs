using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Uet.Telemetry;

namespace Uet.Cli;

/// <summary>
/// Exports uet's spans and metrics over OTLP when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set, and does nothing otherwise.
/// The protocol is http/protobuf (POST /v1/traces, /v1/metrics under the endpoint) unless
/// <c>OTEL_EXPORTER_OTLP_PROTOCOL=grpc</c>; the SDK reads the other <c>OTEL_*</c> variables (headers, timeout) itself.
/// </summary>
internal sealed class OtlpExport : IDisposable
{
    private readonly TracerProvider _traces;
    private readonly MeterProvider _metrics;

    private OtlpExport(TracerProvider traces, MeterProvider metrics)
    {
        _traces = traces;
        _metrics = metrics;
    }

    public static OtlpExport? StartFromEnvironment()
    {
        if (string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable("OTEL_EXPORTER_OTLP_ENDPOINT")))
        {
            return null;
        }

        // The OpenTelemetry specification's default is http/protobuf; the .NET SDK's own default is gRPC.
        var protocol = string.Equals(Environment.GetEnvironmentVariable("OTEL_EXPORTER_OTLP_PROTOCOL"), "grpc", StringComparison.OrdinalIgnoreCase)
            ? OtlpExportProtocol.Grpc
            : OtlpExportProtocol.HttpProtobuf;
        var resource = ResourceBuilder.CreateDefault()
            .AddService(Environment.GetEnvironmentVariable("OTEL_SERVICE_NAME") ?? "uet", serviceVersion: typeof(OtlpExport).Assembly.GetName().Version?.ToString());
        var traces = Sdk.CreateTracerProviderBuilder()
            .SetResourceBuilder(resource)
            .AddSource(UetTelemetry.SourceName)
            .AddOtlpExporter(o => o.Protocol = protocol)
            .Build();
        var metrics = Sdk.CreateMeterProviderBuilder()
            .SetResourceBuilder(resource)
            .AddMeter(UetTelemetry.SourceName)
            .AddOtlpExporter(o => o.Protocol = protocol)
            .Build();
        return new OtlpExport(traces, metrics);
    }

    /// <summary>Flushes what is buffered (the last spans, the final metric values) and stops.</summary>
    public void Dispose()
    {
        _traces.Dispose();
        _metrics.Dispose();
    }
}
