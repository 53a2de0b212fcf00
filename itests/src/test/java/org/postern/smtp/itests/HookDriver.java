package org.postern.smtp.itests;

import static org.postern.smtp.api.HookType.*;

import java.io.IOException;
import org.postern.smtp.api.HookType;

/** Drives an SMTP session to the command whose reply a hook decides, and returns that reply. */
final class HookDriver {
    private HookDriver() {
    }

    /**
     * The reply that answers the hook: the greeting for pre_connection and connect, the command's reply for
     * the command hooks, the final dot's reply for the hooks from data_headers_end on.
     */
    static String driveTo(SmtpClient client, HookType hook) throws IOException {
        String greeting = client.reply();
        switch (hook) {
            case PRE_CONNECTION:
            case CONNECT:
                return greeting;
            case HELO:
                return client.command("HELO client.example");
            case EHLO:
                return client.command("EHLO client.example");
            case UNRECOGNIZED_COMMAND:
                return client.command("FOOBAR now");
            case HELP:
                return client.command("HELP");
            case NOOP:
                return client.command("NOOP");
            case VRFY:
                return client.command("VRFY someone");
            case QUIT:
                return client.command("QUIT");
            default:
                break;
        }
        client.command("EHLO client.example");
        String mail = client.command("MAIL FROM:<sender@example.org>");
        if (hook == MAIL) {
            return mail;
        }
        String rcpt = client.command("RCPT TO:<rcpt@example.org>");
        if (hook == RCPT) {
            return rcpt;
        }
        String data = client.command("DATA");
        if (hook == DATA) {
            return data;
        }
        return client.command("Subject: hook test\r\nFrom: <sender@example.org>\r\n\r\nHello.\r\n.");
    }
}
