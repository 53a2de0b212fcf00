package org.postern.smtp.core.internal.protocol;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.code_intelligence.jazzer.mutation.annotation.NotNull;

/**
 * Any MAIL FROM or RCPT TO argument text: parsing never throws; what it accepts is an address taken from the text
 * and parameters without SMTP's white space (SP and HTAB, RFC 5321 4.1.2); other Unicode spaces, such as U+3000,
 * may be in an SMTPUTF8 parameter's value (RFC 6531 3.3).
 */
class EnvelopeParserFuzzTest {
    @FuzzTest(maxDuration = "30s")
    void mailAndRcptArgumentsParseOrAreRefusedWithAReason(@NotNull String arguments) {
        for (EnvelopeParser.Parsed parsed : new EnvelopeParser.Parsed[] {EnvelopeParser.parseMail(arguments), EnvelopeParser.parseRcpt(arguments)}) {
            if (!parsed.ok()) {
                assertFalse(parsed.error().isEmpty());
                continue;
            }
            assertTrue(arguments.contains(parsed.address()), () -> "'" + parsed.address() + "' is not in '" + arguments + "'");
            parsed.parameters().forEach(parameter -> assertTrue(!parameter.isEmpty() && parameter.chars().noneMatch(c -> c == ' ' || c == '\t' || c == '\r' || c == '\n'),
                    () -> "parameter '" + parameter + "' from '" + arguments + "'"));
            EnvelopeParser.parameterMap(parsed.parameters());
        }
    }
}
