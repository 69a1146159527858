namespace OpenDcc.Interop.Tests.Tooling;

/// <summary>
/// The exit codes of the DCC Boxed signing tool (<c>tool.jar</c>), as <c>@smartdcc/duis-sign-wrap</c> names them.
/// </summary>
public enum SigningToolExit
{
    Success = 0,
    EnvironmentError = 1,
    ApplicationError = 2,

    /// <summary>No bundled certificate or key for the request's originator (or the response's signer).</summary>
    MissingKeyMaterial = 3,

    /// <summary>The message failed XSD validation, or its signature did not verify.</summary>
    ValidationFailed = 10,
}

/// <summary>What one run of the signing tool printed and exited with.</summary>
/// <param name="Output">Standard output: the signed message (Sign) or the message without its signature (Validate).</param>
/// <param name="Error">Standard error: the tool's <c>[I]</c>/<c>[W]</c>/<c>[E]</c> log lines.</param>
public sealed record ToolResult(SigningToolExit ExitCode, string Output, string Error)
{
    public bool Succeeded => ExitCode == SigningToolExit.Success;

    /// <summary>The tool's last <c>[E]</c> line, or its last line of any kind: the reason a run failed.</summary>
    public string Reason
    {
        get
        {
            var lines = Error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            return lines.LastOrDefault(l => l.StartsWith("[E]", StringComparison.Ordinal)) ?? lines.LastOrDefault() ?? "";
        }
    }

    public override string ToString() => $"exit {(int)ExitCode} ({ExitCode}){(Succeeded ? "" : ": " + Reason)}";
}

/// <summary>The signing tool refused a message that the caller expected it to sign.</summary>
public sealed class SigningToolException(ToolResult result)
    : Exception($"the DCC Boxed signing tool failed with {result}\n{result.Error}")
{
    public ToolResult Result { get; } = result;
}

/// <summary><c>@smartdcc/duis-parser</c> refused a message.</summary>
public sealed class DuisParseException(string reason)
    : Exception($"@smartdcc/duis-parser could not parse the message: {reason}")
{
    public string Reason { get; } = reason;
}

/// <summary>The external DCC tools, or the Java or Node.js runtime they need, are not installed.</summary>
public sealed class DccToolingMissingException(string message) : Exception(message);
