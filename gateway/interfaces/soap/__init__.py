"""SOAP 1.1 endpoint with its WSDL: Submit, FetchInbox, Acknowledge, GetAppealStatus (see docs/soap.md)."""
