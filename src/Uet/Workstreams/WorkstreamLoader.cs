using Uet.Planning;

namespace Uet.Workstreams;

/// <summary>What to load: folders and/or files, and the file-name pattern used inside folders.</summary>
public sealed record WorkstreamSource(IReadOnlyList<string> Paths, string Pattern = WorkstreamSource.DefaultPattern)
{
    public const string DefaultPattern = "ws-*.{json,yaml,yml}";
}

/// <summary>
/// Loads every workstream file, binds it, then checks the set as a whole (duplicate ids, unknown dependencies,
/// cycles). Strict by default: any error makes the set invalid. With <c>skipInvalid</c> the faulty workstreams,
/// and everything that depends on them, are left out and listed in <see cref="WorkstreamSet.Skipped"/>.
/// </summary>
public static class WorkstreamLoader
{
    public static WorkstreamSet Load(WorkstreamSource source, bool skipInvalid, CancellationToken cancellationToken = default)
    {
        var files = FindFiles(source);
        var perFile = new FileResult[files.Count];
        Parallel.For(0, files.Count, new ParallelOptions { CancellationToken = cancellationToken }, i => perFile[i] = LoadFile(files[i]));
        return Validate(perFile, files.Count, skipInvalid);
    }

    /// <summary>The files a source names, in a stable order (ordinal by path) so results never depend on the file system.</summary>
    public static IReadOnlyList<string> FindFiles(WorkstreamSource source)
    {
        var files = new List<string>();
        // A file named twice (a folder and a file in it) is read once, or it would collide with itself.
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var matcher = new FileNamePattern(source.Pattern);
        foreach (var path in source.Paths)
        {
            IEnumerable<string> found;
            if (Directory.Exists(path))
            {
                found = Directory.EnumerateFiles(path)
                    .Where(f => matcher.IsMatch(Path.GetFileName(f)))
                    .OrderBy(f => f, StringComparer.Ordinal);
            }
            else if (File.Exists(path))
            {
                found = [path];
            }
            else
            {
                throw UsageException.PathNotFound(path);
            }

            files.AddRange(found.Where(f => seen.Add(Path.GetFullPath(f))));
        }

        // Nothing to check is never "ok": a mistyped folder or --pattern must not pass a CI gate.
        return files.Count > 0 ? files : throw UsageException.NoWorkstreamFiles(source.Paths, source.Pattern);
    }

    private sealed record FileResult(string File, IReadOnlyList<BoundWorkstream> Bound, List<Diagnostic> Diagnostics, bool Unparsable);

    private static FileResult LoadFile(string file)
    {
        var diagnostics = new List<Diagnostic>();
        try
        {
            var root = IsYaml(file)
                ? YamlSourceReader.Read(File.ReadAllText(file))
                : JsonSourceReader.Read(File.ReadAllBytes(file));
            return new FileResult(file, WorkstreamBinder.Bind(file, root, diagnostics), diagnostics, false);
        }
        catch (SourceSyntaxException ex)
        {
            diagnostics.Add(new Diagnostic(DiagnosticSeverity.Error, DiagnosticCodes.Unparsable, ex.Message, new SourceLocation(file, ex.Line, ex.Column)));
            return new FileResult(file, [], diagnostics, true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            diagnostics.Add(new Diagnostic(DiagnosticSeverity.Error, DiagnosticCodes.Unparsable, $"cannot read the file: {ex.Message}", new SourceLocation(file, 1, 1)));
            return new FileResult(file, [], diagnostics, true);
        }
    }

    private static bool IsYaml(string file) =>
        file.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) || file.EndsWith(".yml", StringComparison.OrdinalIgnoreCase);

    private static WorkstreamSet Validate(FileResult[] perFile, int fileCount, bool skipInvalid)
    {
        var diagnostics = new List<Diagnostic>();
        var candidates = new List<Workstream>();
        // Why each left-out workstream (or file) was left out; keyed by id where there is one.
        var rejected = new Dictionary<string, SkippedWorkstream>(StringComparer.Ordinal);
        var skipped = new List<SkippedWorkstream>();

        foreach (var file in perFile)
        {
            diagnostics.AddRange(file.Diagnostics);
            var firstError = file.Diagnostics.FirstOrDefault(d => d.IsError);
            if (file.Unparsable)
            {
                skipped.Add(new SkippedWorkstream(null, new SourceLocation(file.File, firstError!.Location.Line, firstError.Location.Column), firstError.Message));
            }

            foreach (var bound in file.Bound)
            {
                if (bound.Workstream is { } ws)
                {
                    candidates.Add(ws);
                    continue;
                }

                var entry = new SkippedWorkstream(bound.Id, bound.Location, bound.Reason ?? "invalid");
                if (bound.Id is null || !rejected.TryAdd(bound.Id, entry))
                {
                    skipped.Add(entry);
                }
            }
        }

        var graph = DependencyGraph.Build(candidates);
        // reasons[i] != null: candidate i is invalid, and this is the first thing wrong with it.
        var reasons = new string?[candidates.Count];
        FindDuplicates(candidates, rejected, reasons, diagnostics);
        CheckReferences(candidates, graph, rejected, reasons, diagnostics);
        foreach (var cycle in graph.FindCycles())
        {
            var first = graph.Index[cycle[0]];
            var message = $"dependency cycle: {string.Join(" -> ", cycle)}; remove one of these dependencies";
            diagnostics.Add(new Diagnostic(DiagnosticSeverity.Error, DiagnosticCodes.Cycle, message, candidates[first].Location));
            foreach (var id in cycle)
            {
                reasons[graph.Index[id]] ??= message;
            }
        }

        if (skipInvalid)
        {
            PropagateToDependents(graph, reasons);
        }

        var loaded = new List<Workstream>(candidates.Count);
        for (var i = 0; i < candidates.Count; i++)
        {
            if (reasons[i] is null)
            {
                loaded.Add(candidates[i]);
            }
            else
            {
                skipped.Add(new SkippedWorkstream(candidates[i].Id, candidates[i].Location, reasons[i]!));
            }
        }

        skipped.AddRange(rejected.Values);
        diagnostics.Sort(CompareDiagnostics);
        skipped.Sort((a, b) => CompareLocations(a.Location, b.Location));
        var hasErrors = diagnostics.Any(d => d.IsError);
        return new WorkstreamSet(
            hasErrors && !skipInvalid ? [] : loaded,
            diagnostics,
            skipped,
            fileCount,
            skipInvalid);
    }

    // Both copies of a duplicated id are invalid: which one the user meant cannot be known.
    private static void FindDuplicates(List<Workstream> candidates, Dictionary<string, SkippedWorkstream> rejected, string?[] reasons, List<Diagnostic> diagnostics)
    {
        var firstById = new Dictionary<string, int>(candidates.Count, StringComparer.Ordinal);
        for (var i = 0; i < candidates.Count; i++)
        {
            var ws = candidates[i];
            SourceLocation other;
            if (firstById.TryGetValue(ws.Id, out var first))
            {
                other = candidates[first].Location;
                reasons[first] ??= $"duplicate id '{ws.Id}': also defined at {ws.Location}";
            }
            else if (rejected.TryGetValue(ws.Id, out var invalid))
            {
                other = invalid.Location;
            }
            else
            {
                firstById[ws.Id] = i;
                continue;
            }

            var message = $"duplicate id '{ws.Id}': also defined at {other}; ids must be unique";
            reasons[i] ??= message;
            diagnostics.Add(new Diagnostic(DiagnosticSeverity.Error, DiagnosticCodes.DuplicateId, message, ws.Location));
        }
    }

    private static void CheckReferences(List<Workstream> candidates, DependencyGraph graph, Dictionary<string, SkippedWorkstream> rejected, string?[] reasons, List<Diagnostic> diagnostics)
    {
        for (var i = 0; i < candidates.Count; i++)
        {
            var ws = candidates[i];
            foreach (var (dep, field) in ws.DependsOn.Select(d => (d, "depends on")).Concat(ws.Blocks.Select(b => (b, "blocks"))))
            {
                if (graph.Index.ContainsKey(dep.Id))
                {
                    continue;
                }

                var message = rejected.TryGetValue(dep.Id, out var invalid)
                    ? $"{ws.Id} {field} '{dep.Id}', which is invalid ({invalid.Location}: {invalid.Reason})"
                    : $"{ws.Id} {field} '{dep.Id}', which no workstream defines{Suggestion(dep.Id, ws.Id, graph)}";
                diagnostics.Add(new Diagnostic(DiagnosticSeverity.Error,
                    invalid is null ? DiagnosticCodes.UnknownDependency : DiagnosticCodes.DependsOnSkipped, message, dep.Location));
                reasons[i] ??= message;
            }
        }
    }

    private static void PropagateToDependents(DependencyGraph graph, string?[] reasons)
    {
        var queue = new Queue<int>(Enumerable.Range(0, reasons.Length).Where(i => reasons[i] is not null));
        while (queue.Count > 0)
        {
            var v = queue.Dequeue();
            foreach (var d in graph.Dependents[v])
            {
                if (reasons[d] is null)
                {
                    reasons[d] = $"depends on {graph.Nodes[v].Id}, which was skipped";
                    queue.Enqueue(d);
                }
            }
        }
    }

    private static string Suggestion(string id, string referrer, DependencyGraph graph)
    {
        // Bounded: a suggestion is worth a scan of a few thousand ids, not of a huge plan.
        if (graph.Count > 20_000)
        {
            return string.Empty;
        }

        var best = graph.Nodes.Select(n => n.Id)
            .Where(candidate => candidate != referrer)
            .Select(candidate => (candidate, distance: EditDistance.Levenshtein(id, candidate)))
            .Where(x => x.distance <= Math.Max(2, id.Length / 4))
            .OrderBy(x => x.distance).ThenBy(x => x.candidate, StringComparer.Ordinal)
            .FirstOrDefault();
        return best.candidate is null ? string.Empty : $" (did you mean '{best.candidate}'?)";
    }

    private static int CompareDiagnostics(Diagnostic a, Diagnostic b)
    {
        var byLocation = CompareLocations(a.Location, b.Location);
        return byLocation != 0 ? byLocation : string.CompareOrdinal(a.Code, b.Code);
    }

    private static int CompareLocations(SourceLocation a, SourceLocation b)
    {
        var c = string.CompareOrdinal(a.File, b.File);
        if (c == 0)
        {
            c = a.Line.CompareTo(b.Line);
        }

        return c != 0 ? c : a.Column.CompareTo(b.Column);
    }
}
