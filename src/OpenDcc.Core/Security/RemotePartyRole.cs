namespace OpenDcc.Core.Security;

/// <summary>
/// The remote-party role an SMKI organisation certificate carries in its subject <c>OU</c>, written as two
/// hex digits (e.g. <c>02</c> supplier, <c>87</c> XmlSign). Source: duis-and-dcc.md §5.1.
/// </summary>
public enum RemotePartyRole
{
    Root = 0x00,
    Recovery = 0x01,
    Supplier = 0x02,
    NetworkOperator = 0x03,
    AccessControlBroker = 0x04,
    TransitionalChangeOfSupplier = 0x05,
    WanProvider = 0x06,
    IssuingAuthority = 0x07,
    LoadController = 0x08,
    Other = 0x7F,
    XmlSign = 0x87,
    DspXmlSign = 0x89,
}
