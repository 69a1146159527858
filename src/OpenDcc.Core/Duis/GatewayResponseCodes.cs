namespace OpenDcc.Core.Duis;

/// <summary>
/// The response codes OpenDcc uses where the DUIS sources do not confirm which code the DCC uses
/// (duis-and-dcc.md §1.5 lists meanings only up to E30; §1.7 leaves the replay code open). Each is a documented,
/// configurable choice: every value is one the DUIS XSD's ResponseCode enumeration allows.
/// </summary>
/// <param name="InvalidRequest">A request whose SRV is known but whose header or body is wrong.</param>
/// <param name="AuthenticationFailure">Missing or bad XML signature, unknown certificate, or a certificate that is not the originator's XmlSign certificate.</param>
/// <param name="Replay">A RequestID counter not greater than the last one accepted from that originator.</param>
/// <param name="NotYetAvailable">A non-device service OpenDcc does not provide yet.</param>
/// <param name="InventoryNotFound">8.2 Read Inventory matched no device.</param>
/// <param name="ModelNotApproved">12.2 names a device model not on the approved list: the DCC's own 12.2 error (duis-and-dcc.md §1.5).</param>
/// <param name="UpdatedModelNotApproved">8.4 UpdateDeviceDetails gives a device a model not on the approved list (an 8.4 code from the XSD; its DUIS meaning is unconfirmed).</param>
/// <param name="SignedPreCommandInvalid">A Signed Pre-Command (CV 5) whose GBCSPayload is not a signed pre-command of the target device's format, or names another device, signer or SRV than the request.</param>
/// <param name="SignedPreCommandNotAuthentic">A Signed Pre-Command whose signature does not verify with a Digital Signing certificate of the originator valid now (or the originator has none).</param>
/// <param name="CommissionedModelNotApproved">
/// 8.1.1 Commission Device (Transform or Signed Pre-Command) for a device whose manufacturer and model are not on the
/// approved list, or not known while the list is in force. The XSD has no 8.1-specific code (no E0801xx), so OpenDcc
/// takes the next generic code after its own E41–E45; its DUIS meaning is unconfirmed.
/// </param>
/// <param name="LocalCommandUnknown">8.13 Return Local Command Response whose OriginalRequestID names no command for local delivery OpenDcc gave this user (or names none): the first of the XSD's three 8.13 codes, meaning unconfirmed.</param>
/// <param name="LocalResponseInvalid">8.13 whose DeviceGBCSResponse is not the device's authentic answer to that command: the second 8.13 code.</param>
/// <param name="LocalResponseReturned">8.13 for a command whose answer was returned already: the third 8.13 code.</param>
/// <param name="WanMatrixAddressUnknown">12.1 for a UPRN that is no site whose post code the inventory holds: the first of the XSD's two 12.1 codes, meaning unconfirmed.</param>
/// <param name="WanMatrixNoCoverageData">12.1 for an address whose post code no coverage entry covers: the second 12.1 code, meaning unconfirmed.</param>
public sealed record GatewayResponseCodes(
    string InvalidRequest = "E41",
    string AuthenticationFailure = "E42",
    string Replay = "E43",
    string NotYetAvailable = "E100",
    string InventoryNotFound = "E080201",
    string ModelNotApproved = "E120201",
    string UpdatedModelNotApproved = "E080405",
    string SignedPreCommandInvalid = "E44",
    string SignedPreCommandNotAuthentic = "E45",
    string CommissionedModelNotApproved = "E46",
    string LocalCommandUnknown = "E081301",
    string LocalResponseInvalid = "E081302",
    string LocalResponseReturned = "E081303",
    string WanMatrixAddressUnknown = "E120101",
    string WanMatrixNoCoverageData = "E120102")
{
    public static GatewayResponseCodes Default { get; } = new();
}
