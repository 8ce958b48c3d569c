using System.Globalization;

namespace Uet.Bench;

/// <summary>Command-line options of the benchmark. Parsing errors throw <see cref="ArgumentException"/>.</summary>
internal sealed record BenchOptions
{
    public IReadOnlyList<int> Sizes { get; init; } = [1_000, 10_000, 100_000];

    public int Seed { get; init; } = 42;

    public int Window { get; init; } = 200;

    public string? Out { get; init; }

    public bool Keep { get; init; }

    /// <summary>Runs per size; the first is the warm-up (reported apart). Default 3, or 1 with <c>--only-size</c>.</summary>
    public int Repeat { get; init; } = 3;

    public int? OnlySize { get; init; }

    public string? Dir { get; init; }

    public bool GenerateOnly { get; init; }

    public string? Json { get; init; }

    public bool Profile { get; init; }

    public int Workers { get; init; } = 8;

    public const string Usage = """
        uet scale benchmark: load + validate + plan on generated workstream folders.

          --sizes 1000,10000,100000   workstream counts (default those three)
          --seed 42                   generator seed
          --window 200                most dependencies are picked among the previous N ids
          --out DIR                   where to generate (default: a temp dir, deleted unless --keep)
          --keep                      keep the generated folders (DIR/n<size>)
          --generate-only             only write the folders (implies --keep)
          --repeat 3                  runs per size; the first is a warm-up, reported apart
          --only-size N --dir DIR     measure one existing folder in this process (cold; --repeat defaults to 1)
          --workers 8                 PlanOptions.Workers
          --json FILE                 also write the figures as JSON
          --profile                   also time the stages of load and plan one by one (hot spots)
        """;

    public static BenchOptions Parse(string[] args)
    {
        var options = new BenchOptions();
        int? repeat = null;
        for (var i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            options = args[i] switch
            {
                "--sizes" => options with { Sizes = Value().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(Positive).ToArray() },
                "--seed" => options with { Seed = Int(Value()) },
                "--window" => options with { Window = Positive(Value()) },
                "--out" => options with { Out = Value() },
                "--keep" => options with { Keep = true },
                "--generate-only" => options with { GenerateOnly = true, Keep = true },
                "--repeat" => options with { Repeat = (repeat = Positive(Value())).Value },
                "--only-size" => options with { OnlySize = Positive(Value()) },
                "--dir" => options with { Dir = Value() },
                "--workers" => options with { Workers = Positive(Value()) },
                "--json" => options with { Json = Value() },
                "--profile" => options with { Profile = true },
                _ => throw new ArgumentException($"unknown argument '{args[i]}'"),
            };
        }

        if (options.OnlySize is not null)
        {
            if (options.Dir is null)
            {
                throw new ArgumentException("--only-size needs --dir <folder with the generated files>");
            }

            options = options with { Repeat = repeat ?? 1, Sizes = [options.OnlySize.Value] };
        }

        return options.Sizes.Count == 0 ? throw new ArgumentException("--sizes is empty") : options;
    }

    private static int Int(string text) =>
        int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value : throw new ArgumentException($"not a number: '{text}'");

    private static int Positive(string text)
    {
        var value = Int(text);
        return value > 0 ? value : throw new ArgumentException($"must be positive: '{text}'");
    }
}
