using System.Collections;
using System.Text.RegularExpressions;

namespace Uet.Execution;

/// <summary>
/// Keeps secrets out of everything uet writes (logs, events, reports): the values of environment variables whose
/// names say they are secret (API keys, tokens, passwords) are replaced by <c>***</c> wherever they appear. Tools
/// still receive the real environment; only what uet records is cleaned.
/// </summary>
public sealed partial class Redactor
{
    private const int MinimumSecretLength = 6;
    private readonly string[] _secrets;

    public Redactor(IEnumerable<string> secrets)
    {
        // Longest first, so a secret that contains another is replaced whole.
        _secrets = secrets.Where(s => s.Length >= MinimumSecretLength).Distinct(StringComparer.Ordinal).OrderByDescending(s => s.Length).ToArray();
    }

    public static Redactor None { get; } = new([]);

    // Whole words of the name (OPENAI_API_KEY, GITHUB_TOKEN, DB_PASSWORD), not substrings: GIT_AUTHOR_NAME and
    // SSH_AUTH_SOCK are not secrets, and redacting their values would garble logs.
    [GeneratedRegex("(^|_)(KEY|APIKEY|TOKEN|SECRET|PASSWORD|PASSWD|PASS|PWD|CREDENTIALS?|PAT)(_|$)", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex SecretName();

    /// <summary>Whether a variable's name says it holds a secret. PWD and OLDPWD are the shell's working directories, not passwords.</summary>
    public static bool IsSecretName(string name) =>
        SecretName().IsMatch(name) && !name.Equals("PWD", StringComparison.OrdinalIgnoreCase) && !name.Equals("OLDPWD", StringComparison.OrdinalIgnoreCase);

    /// <summary>The secrets of this process's environment.</summary>
    public static Redactor FromEnvironment() => FromVariables(Environment.GetEnvironmentVariables()
        .Cast<DictionaryEntry>()
        .Select(e => KeyValuePair.Create((string)e.Key, e.Value as string)));

    public static Redactor FromVariables(IEnumerable<KeyValuePair<string, string?>> variables) =>
        new(variables.Where(v => v.Value is not null && IsSecretName(v.Key)).Select(v => v.Value!));

    public string Clean(string text)
    {
        foreach (var secret in _secrets)
        {
            if (text.Contains(secret, StringComparison.Ordinal))
            {
                text = text.Replace(secret, "***", StringComparison.Ordinal);
            }
        }

        return text;
    }
}
