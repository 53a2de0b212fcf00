package org.postern.smtp.plugin.milter.internal;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The MTA's side of the Sendmail milter protocol, version 6, as libmilter's {@code mfdef.h} defines it: each packet
 * is its length in four octets (network order, the command octet included), a command octet, then its data, mostly
 * NUL-terminated strings. Text goes out as ISO-8859-1 so that header octets reach the milter as received.
 */
final class MilterProtocol {
    static final int VERSION = 6;
    /** The largest body chunk a milter accepts without the SMFIP_MDS_* flags, which this client does not offer. */
    static final int MAX_BODY_CHUNK = 65535;

    static final char OPTNEG = 'O';
    static final char MACRO = 'D';
    static final char CONNECT = 'C';
    static final char HELO = 'H';
    static final char MAIL = 'M';
    static final char RCPT = 'R';
    static final char DATA = 'T';
    static final char HEADER = 'L';
    static final char EOH = 'N';
    static final char BODY = 'B';
    static final char BODYEOB = 'E';
    static final char ABORT = 'A';
    static final char QUIT = 'Q';

    /** Actions (SMFIF_*): what the MTA lets a milter do at the end of the message. */
    static final int ADDHDRS = 0x01;
    static final int CHGBODY = 0x02;
    static final int ADDRCPT = 0x04;
    static final int DELRCPT = 0x08;
    static final int CHGHDRS = 0x10;
    static final int QUARANTINE = 0x20;
    static final int CHGFROM = 0x40;
    static final int ADDRCPT_PAR = 0x80;
    static final int SETSYMLIST = 0x100;
    static final int ALL_ACTIONS = 0x1FF;

    /** Protocol flags (SMFIP_*): steps a milter asks not to get (NO*) or not to answer (NR_*). */
    static final int NOCONNECT = 0x01;
    static final int NOHELO = 0x02;
    static final int NOMAIL = 0x04;
    static final int NORCPT = 0x08;
    static final int NOBODY = 0x10;
    static final int NOHDRS = 0x20;
    static final int NOEOH = 0x40;
    static final int NR_HDR = 0x80;
    static final int NOUNKNOWN = 0x100;
    static final int NODATA = 0x200;
    static final int SKIP = 0x400;
    static final int RCPT_REJ = 0x800;
    static final int NR_CONN = 0x1000;
    static final int NR_HELO = 0x2000;
    static final int NR_MAIL = 0x4000;
    static final int NR_RCPT = 0x8000;
    static final int NR_DATA = 0x10000;
    static final int NR_UNKN = 0x20000;
    static final int NR_EOH = 0x40000;
    static final int NR_BODY = 0x80000;
    /**
     * What this client offers: every step may be skipped or left unanswered, but not RCPT_REJ (rejected recipients
     * are not sent), HDR_LEADSPC (header values go without their leading space, as Sendmail sends them) and the
     * MDS_* larger body chunks.
     */
    static final int OFFERED_PROTOCOL = 0xFFFFF & ~RCPT_REJ;

    /** Macro stages (SMFIM_*), as a milter names them in SMFIR_SETSYMLIST. */
    static final int STAGE_CONNECT = 0;
    static final int STAGE_HELO = 1;
    static final int STAGE_MAIL = 2;
    static final int STAGE_RCPT = 3;
    static final int STAGE_DATA = 4;
    static final int STAGE_EOM = 5;
    static final int STAGE_EOH = 6;

    private MilterProtocol() {
    }

    static ByteBuf optionNegotiation(int actions, int protocol) {
        ByteBuf packet = start(OPTNEG);
        packet.writeInt(VERSION).writeInt(actions).writeInt(protocol);
        return finish(packet);
    }

    /** SMFIC_MACRO: the macros of the command {@code command} is about to send, as name and value pairs. */
    static ByteBuf macros(char command, Map<String, String> macros) {
        ByteBuf packet = start(MACRO);
        packet.writeByte(command);
        macros.forEach((name, value) -> strings(packet, StandardCharsets.UTF_8, name, value));
        return finish(packet);
    }

    /** SMFIC_CONNECT: the client's host name, then its family ('4' or '6'), port and address. */
    static ByteBuf connect(String hostName, InetSocketAddress client) {
        ByteBuf packet = start(CONNECT);
        strings(packet, StandardCharsets.UTF_8, hostName);
        packet.writeByte(client.getAddress() instanceof Inet6Address ? '6' : '4');
        packet.writeShort(client.getPort());
        strings(packet, StandardCharsets.US_ASCII, client.getAddress().getHostAddress());
        return finish(packet);
    }

    static ByteBuf helo(String host) {
        return command(HELO, host);
    }

    /** SMFIC_MAIL or SMFIC_RCPT: the path in angle brackets, then each ESMTP argument as {@code KEY=value}. */
    static ByteBuf envelope(char command, String path, Map<String, String> parameters) {
        ByteBuf packet = start(command);
        strings(packet, StandardCharsets.UTF_8, path);
        parameters.forEach((name, value) -> strings(packet, StandardCharsets.UTF_8,
                name.toUpperCase(Locale.ROOT) + (value == null || value.isEmpty() ? "" : "=" + value)));
        return finish(packet);
    }

    /** SMFIC_HEADER: the name, then the value without its leading white space, folded lines with LF alone, as Sendmail sends them. */
    static ByteBuf header(String name, String rawValue) {
        String value = rawValue.replaceFirst("^[ \t]+", "").replace("\r\n", "\n");
        ByteBuf packet = start(HEADER);
        strings(packet, StandardCharsets.ISO_8859_1, name, value);
        return finish(packet);
    }

    /** SMFIC_BODY with up to {@link #MAX_BODY_CHUNK} octets of the body as received (CRLF line endings). */
    static ByteBuf body(byte[] chunk, int length) {
        if (length > MAX_BODY_CHUNK) {
            throw new IllegalArgumentException("body chunk over " + MAX_BODY_CHUNK + " octets: " + length);
        }
        ByteBuf packet = start(BODY);
        packet.writeBytes(chunk, 0, length);
        return finish(packet);
    }

    /** A command without data: DATA, EOH, BODYEOB, ABORT, QUIT; or with strings. */
    static ByteBuf command(char command, String... strings) {
        ByteBuf packet = start(command);
        strings(packet, StandardCharsets.UTF_8, strings);
        return finish(packet);
    }

    private static ByteBuf start(char command) {
        ByteBuf packet = Unpooled.buffer();
        packet.writeInt(0).writeByte(command);
        return packet;
    }

    private static ByteBuf finish(ByteBuf packet) {
        packet.setInt(0, packet.readableBytes() - 4);
        return packet;
    }

    private static void strings(ByteBuf packet, Charset charset, String... strings) {
        for (String string : List.of(strings)) {
            packet.writeBytes(string.getBytes(charset)).writeByte(0);
        }
    }
}
