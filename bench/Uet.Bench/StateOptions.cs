using System.Globalization;

namespace Uet.Bench;

/// <summary>Options of the <c>state</c> suite (durable transitions against a raw INSERT loop).</summary>
internal sealed record StateOptions
{
    /// <summary>Operations per measurement in the batched modes.</summary>
    public int Count { get; init; } = 50_000;

    /// <summary>Operations per measurement one per transaction with synchronous=FULL (each commit is an fsync).</summary>
    public int SingleCount { get; init; } = 5_000;

    /// <summary>Operations per measurement one per transaction with synchronous=NORMAL (no fsync per commit).</summary>
    public int NormalCount { get; init; } = 20_000;

    public IReadOnlyList<int> Batches { get; init; } = [100, 1_000];

    public int Repeat { get; init; } = 3;

    public bool Normal { get; init; } = true;

    public string? Dir { get; init; }

    public string? Json { get; init; }

    public const string Usage = """
        uet state benchmark: durable state transitions (guarded UPDATE + event INSERT) against a raw INSERT loop,
        on one SQLite database file (WAL), one per transaction and batched.

          state                       select this suite (first argument)
          --count 50000               operations per measurement in the batched modes
          --single-count 5000         operations per measurement, one per transaction with synchronous=FULL
          --normal-count 20000        operations per measurement, one per transaction with synchronous=NORMAL
          --batches 100,1000          batch sizes (operations per transaction); 1 is always measured
          --repeat 3                  measured runs per row (median reported; all runs printed), after one warm-up
          --no-normal                 skip the synchronous=NORMAL rows
          --dir DIR                   where to put the database (default: a temp dir, deleted afterwards)
          --json FILE                 also write the figures as JSON
        """;

    public static StateOptions Parse(IReadOnlyList<string> args)
    {
        var options = new StateOptions();
        for (var i = 0; i < args.Count; i++)
        {
            string Value() => i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            options = args[i] switch
            {
                "--count" => options with { Count = Positive(Value()) },
                "--single-count" => options with { SingleCount = Positive(Value()) },
                "--normal-count" => options with { NormalCount = Positive(Value()) },
                "--batches" => options with
                {
                    Batches = Value().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                        .Select(Positive).Where(b => b > 1).Distinct().Order().ToArray(),
                },
                "--repeat" => options with { Repeat = Positive(Value()) },
                "--no-normal" => options with { Normal = false },
                "--dir" => options with { Dir = Value() },
                "--json" => options with { Json = Value() },
                _ => throw new ArgumentException($"unknown argument '{args[i]}'"),
            };
        }

        return options;
    }

    private static int Positive(string text) =>
        int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value > 0
            ? value
            : throw new ArgumentException($"must be a positive number: '{text}'");
}
