using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;

namespace Uet.Tests.Execution.AiClis;

/// <summary>One request the fake server received: method, path, headers and the JSON body.</summary>
internal sealed record ModelRequest(string Method, string Path, IReadOnlyDictionary<string, string> Headers, JsonNode? Body);

/// <summary>What the fake server answers: a status, a content type and the bytes (a JSON document or an SSE stream).</summary>
internal sealed record ModelResponse(int Status, string ContentType, string Body)
{
    public static ModelResponse Json(JsonNode body, int status = 200) => new(status, "application/json", body.ToJsonString());

    /// <summary>Server-sent events: one <c>event:</c>/<c>data:</c> pair per entry (no <c>event:</c> line when the name is null).</summary>
    public static ModelResponse Sse(IEnumerable<(string? Event, JsonNode Data)> events) =>
        new(200, "text/event-stream", string.Concat(events.Select(e => (e.Event is null ? string.Empty : $"event: {e.Event}\n") + $"data: {e.Data.ToJsonString()}\n\n")));
}

/// <summary>
/// A model API on 127.0.0.1 for the real AI CLIs to talk to: every request is recorded and answered by a script
/// (a function of the request), so a test knows exactly which edit the client was asked to make.
/// </summary>
internal sealed class FakeModelServer : IDisposable
{
    private readonly HttpListener _listener;
    private readonly Func<ModelRequest, ModelResponse> _script;
    private readonly Task _loop;

    public FakeModelServer(Func<ModelRequest, ModelResponse> script)
    {
        _script = script;
        (_listener, Port) = Listen();
        _loop = Task.Run(LoopAsync);
    }

    public int Port { get; }

    public string BaseUrl => $"http://127.0.0.1:{Port}";

    public ConcurrentQueue<ModelRequest> Requests { get; } = new();

    /// <summary>Errors of the server itself (a script that threw): a test that sees any fails with them.</summary>
    public ConcurrentQueue<string> Errors { get; } = new();

    private static (HttpListener, int) Listen()
    {
        for (var attempt = 0; ; attempt++)
        {
            // A free port from the kernel, then HttpListener on it: another process may take it in between, so retry.
            var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            var port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
            var listener = new HttpListener();
            listener.Prefixes.Add($"http://127.0.0.1:{port}/");
            try
            {
                listener.Start();
                return (listener, port);
            }
            catch (HttpListenerException) when (attempt < 5)
            {
                listener.Close();
            }
        }
    }

    private async Task LoopAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            _ = Task.Run(() => Handle(context));
        }
    }

    private void Handle(HttpListenerContext context)
    {
        ModelResponse response;
        try
        {
            using var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8);
            var text = reader.ReadToEnd();
            var headers = context.Request.Headers.AllKeys.OfType<string>().ToDictionary(k => k.ToLowerInvariant(), k => context.Request.Headers[k] ?? string.Empty);
            var request = new ModelRequest(context.Request.HttpMethod, context.Request.Url!.PathAndQuery, headers, text.Length == 0 ? null : JsonNode.Parse(text));
            Requests.Enqueue(request);
            response = _script(request);
        }
#pragma warning disable CA1031 // The server's own failure is reported to the test, and the client gets a 500 rather than a hang.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Errors.Enqueue(ex.ToString());
            response = ModelResponse.Json(new JsonObject { ["error"] = new JsonObject { ["message"] = "fake server: " + ex.Message } }, 500);
        }

        try
        {
            var bytes = Encoding.UTF8.GetBytes(response.Body);
            context.Response.StatusCode = response.Status;
            context.Response.ContentType = response.ContentType;
            context.Response.ContentLength64 = bytes.Length;
            context.Response.OutputStream.Write(bytes);
            context.Response.Close();
        }
        catch (Exception ex) when (ex is HttpListenerException or IOException or ObjectDisposedException)
        {
            // The client went away: nothing to answer.
        }
    }

    public void Dispose()
    {
        _listener.Stop();
        _listener.Close();
        _loop.Wait(TimeSpan.FromSeconds(5));
    }
}
