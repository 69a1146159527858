using System.Xml.Linq;
using NodaTime;
using OpenDcc.Core.Catalogue;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Inventory;
using OpenDcc.Core.Wan;

namespace OpenDcc.Core.Duis;

/// <summary>
/// 12.1 Request WAN Matrix: whether the SM WAN covers an address, from the coverage data the communications service
/// providers publish (<see cref="IWanCoverageStore"/>). The address is a UPRN (a site in the inventory, by its post
/// code) or a <c>PartialAddress</c> (a post code and an address identifier); the answer is the most precise coverage
/// entry for its post code (the post code's own, its sector's, district's or area's), in a <c>DSPWANMatrix</c> that
/// echoes the request.
/// </summary>
/// <remarks>
/// An address OpenDcc cannot place gets <see cref="GatewayResponseCodes.WanMatrixAddressUnknown"/> (a UPRN of no site
/// with a post code), one whose post code no entry covers <see cref="GatewayResponseCodes.WanMatrixNoCoverageData"/>:
/// the two 12.1 codes of the DUIS XSD, whose meanings are unconfirmed.
/// </remarks>
public sealed class WanMatrixRequests(IWanCoverageStore coverage, IInventoryStore inventory, IClock clock, GatewayResponseCodes codes)
{
    public const string RequestWanMatrix = "12.1";

    private static readonly XNamespace Sr = DuisNamespaces.Sr;

    public async Task<(DuisResponse Response, string Outcome)> HandleAsync(DuisRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Body.Elements().ToList() is not [var address] || (address.Name != Sr + "UPRN" && address.Name != Sr + "PartialAddress"))
        {
            return Refuse(request, codes.InvalidRequest, "12.1 takes one UPRN or one PartialAddress");
        }
        string postCode;
        Uprn? asked = null;
        (string, string)? partial = null;
        if (address.Name == Sr + "UPRN")
        {
            if (!Uprn.TryParse(address.Value, out var uprn, out var error))
            {
                return Refuse(request, codes.InvalidRequest, error);
            }
            if ((await inventory.FindSiteAsync(uprn, cancellationToken))?.PostCode is not { } sitePostCode)
            {
                return Refuse(request, codes.WanMatrixAddressUnknown, $"UPRN {uprn} is not a site whose post code the inventory holds");
            }
            // A site saved before post codes were checked may hold one of another shape (Site.Stored).
            if (!PostCode.IsNormalised(sitePostCode))
            {
                return Refuse(request, codes.WanMatrixAddressUnknown, $"UPRN {uprn}'s site has post code '{Excerpt.Of(sitePostCode)}', which is not a UK post code (the operator corrects it with inventory site set)");
            }
            (postCode, asked) = (sitePostCode, uprn);
        }
        else
        {
            // The XSD's PartialAddress: a PostCode and an AddressIdentifier. Another element, or either twice, would be ignored.
            if (address.Elements().FirstOrDefault(e => (e.Name != Sr + "PostCode" && e.Name != Sr + "AddressIdentifier") || e.HasElements || address.Elements(e.Name).Count() > 1) is { } stranger)
            {
                var named = stranger.Name.Namespace == Sr ? $"sr:{Excerpt.Of(stranger.Name.LocalName)}" : $"{{{Excerpt.Of(stranger.Name.NamespaceName)}}}{Excerpt.Of(stranger.Name.LocalName)}";
                return Refuse(request, codes.InvalidRequest, $"PartialAddress holds {named}, which it does not take: a PostCode and an AddressIdentifier, each once");
            }
            var given = address.Element(Sr + "PostCode")?.Value;
            var identifier = address.Element(Sr + "AddressIdentifier")?.Value.Trim();
            if (string.IsNullOrWhiteSpace(given) || string.IsNullOrEmpty(identifier))
            {
                return Refuse(request, codes.InvalidRequest, "PartialAddress needs a PostCode and an AddressIdentifier");
            }
            if (FreeText.FaultOf(identifier, "AddressIdentifier", 30) is { } fault)
            {
                return Refuse(request, codes.InvalidRequest, fault);
            }
            try
            {
                postCode = WanCoverage.NormalisePostCodes(given);
            }
            catch (FormatException e)
            {
                return Refuse(request, codes.InvalidRequest, $"PostCode {e.Message}");
            }
            if (!PostCode.IsNormalised(postCode))
            {
                return Refuse(request, codes.InvalidRequest, $"PostCode '{Excerpt.Of(given.Trim())}' is not a whole post code (SW1A 1AA)");
            }
            partial = (postCode, identifier);
        }
        if (await coverage.FindAsync(postCode, cancellationToken) is not { } covered)
        {
            return Refuse(request, codes.WanMatrixNoCoverageData, $"no SM WAN coverage data covers post code {postCode}");
        }
        var matrix = new ResponsePayload.WanMatrix(asked, partial, covered);
        return (DuisResponse.For(request, ResponseCode.Success.Code, clock.GetCurrentInstant(), matrix), $"I0 DSPWANMatrix for {postCode}: {covered}");
    }

    private (DuisResponse, string) Refuse(DuisRequest request, string code, string reason) =>
        (DuisResponse.For(request, code, clock.GetCurrentInstant()), $"{code} {reason}");
}
