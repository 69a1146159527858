using System.Net.Http.Headers;

namespace OpenDcc.Core.Duis;

/// <summary>
/// The Content-Type a DUIS request may declare: XML (<c>application/xml</c>, as DCC Boxed's clients send it,
/// <c>text/xml</c>, or a <c>+xml</c> type). A body declared as something else (a form, JSON) was not meant as a DUIS
/// request and is refused unread, with 415. A request that declares no type is read as XML.
/// </summary>
public static class DuisMediaType
{
    /// <returns>Null when a body of <paramref name="contentType"/> is read as XML; otherwise why it is refused.</returns>
    public static string? Refusal(string? contentType)
    {
        if (string.IsNullOrWhiteSpace(contentType))
        {
            return null;
        }
        var mediaType = MediaTypeHeaderValue.TryParse(contentType, out var parsed) ? parsed.MediaType : null;
        return mediaType is not null && (mediaType.Equals("application/xml", StringComparison.OrdinalIgnoreCase)
                || mediaType.Equals("text/xml", StringComparison.OrdinalIgnoreCase)
                || mediaType.EndsWith("+xml", StringComparison.OrdinalIgnoreCase))
            ? null
            : $"a DUIS request is XML: send it as Content-Type: application/xml, not '{contentType}'";
    }
}
