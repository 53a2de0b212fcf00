package org.postern.smtp.core.internal.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class EnvelopeParserTest {
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "FROM:<a@example.org>|<a@example.org>|",
        "from: <a@example.org>|<a@example.org>|",
        "FROM:<a@example.org> SIZE=1000 BODY=8BITMIME|<a@example.org>|SIZE=1000 BODY=8BITMIME",
        "FROM:<>|<>|",
        "FROM:|<>|",
        "FROM: SIZE=10|SIZE=10|",
        "FROM:a@example.org|a@example.org|",
        "FROM:<a@example.org>  |<a@example.org>|",
    })
    void splitsMailIntoAddressAndParameters(String arguments, String address, String parameters) {
        EnvelopeParser.Parsed parsed = EnvelopeParser.parseMail(arguments);
        assertEquals(address, parsed.address());
        assertEquals(parameters == null ? List.of() : List.of(parameters.split(" ")), parsed.parameters());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "<a@example.org>|Syntax error in command",
        "TO:<a@example.org>|Syntax error in command",
        "FROM:<a@exa mple.org>|Syntax error in parameters",
    })
    void refusesMalformedMail(String arguments, String error) {
        EnvelopeParser.Parsed parsed = EnvelopeParser.parseMail(arguments);
        assertFalse(parsed.ok());
        assertEquals(error, parsed.error());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "TO:|Syntax error in address",
        "FROM:<a@example.org>|Syntax error in command",
    })
    void refusesMalformedRcpt(String arguments, String error) {
        assertEquals(error, EnvelopeParser.parseRcpt(arguments).error());
    }

    @Test
    void bareLocalRecipientsAreOnlyPostmasterAndAbuse() {
        assertEquals("postmaster", EnvelopeParser.parseRcpt("TO:postmaster").address());
        // As in qpsmtpd, "bob" passes the parser; rcpt_pre's angle-bracket check refuses it later.
        assertEquals("bob", EnvelopeParser.parseRcpt("TO:bob").address());
        assertEquals("Abuse", EnvelopeParser.parseRcpt("to:Abuse").address());
        assertEquals("<b@example.org>", EnvelopeParser.parseRcpt("To:<b@example.org> NOTIFY=NEVER").address());
    }

    @Test
    void parameterNamesAreLowerCasedAndValuesKept() {
        assertEquals(Map.of("size", "100", "body", "8BITMIME", "smtputf8", ""),
                EnvelopeParser.parameterMap(List.of("SIZE=100", "Body=8BITMIME", "SMTPUTF8")));
    }
}
