package org.postern.mailauth.dkim;

import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.HexFormat;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A private key and the algorithm it signs with, read from PEM: PKCS#8 ({@code BEGIN PRIVATE KEY}, what
 * {@code openssl genpkey} writes, for RSA and Ed25519) or PKCS#1 ({@code BEGIN RSA PRIVATE KEY}, what older
 * {@code openssl genrsa}, and qpsmtpd's key script, wrote). Encrypted keys are not read.
 */
public record SigningKey(Algorithm algorithm, PrivateKey key) {
    private static final Pattern PEM = Pattern.compile("-----BEGIN ([A-Z ]+)-----([A-Za-z0-9+/=\\s]+)-----END \\1-----");
    /** DER of AlgorithmIdentifier { rsaEncryption, NULL }, which PKCS#8 puts before an RSA key. */
    private static final byte[] RSA_ALGORITHM = HexFormat.of().parseHex("300d06092a864886f70d0101010500");

    public static SigningKey fromPem(String pem) throws GeneralSecurityException {
        Matcher block = PEM.matcher(pem);
        if (!block.find()) {
            throw new GeneralSecurityException("no PEM private key");
        }
        byte[] der = Base64.getMimeDecoder().decode(block.group(2));
        return switch (block.group(1)) {
            case "RSA PRIVATE KEY" -> new SigningKey(Algorithm.RSA_SHA256, KeyFactory.getInstance("RSA").generatePrivate(pkcs8(der)));
            case "PRIVATE KEY" -> fromPkcs8(der);
            default -> throw new GeneralSecurityException("not a private key this engine reads: " + block.group(1));
        };
    }

    private static SigningKey fromPkcs8(byte[] der) throws GeneralSecurityException {
        try {
            return new SigningKey(Algorithm.RSA_SHA256, KeyFactory.getInstance("RSA").generatePrivate(new PKCS8EncodedKeySpec(der)));
        } catch (GeneralSecurityException notRsa) {
            return new SigningKey(Algorithm.ED25519_SHA256, KeyFactory.getInstance("Ed25519").generatePrivate(new PKCS8EncodedKeySpec(der)));
        }
    }

    /** PKCS#1 RSAPrivateKey wrapped as PKCS#8: SEQUENCE { INTEGER 0, AlgorithmIdentifier, OCTET STRING key }. */
    private static PKCS8EncodedKeySpec pkcs8(byte[] pkcs1) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.writeBytes(new byte[] {0x02, 0x01, 0x00});
        body.writeBytes(RSA_ALGORITHM);
        body.writeBytes(derHeader(0x04, pkcs1.length));
        body.writeBytes(pkcs1);
        ByteArrayOutputStream sequence = new ByteArrayOutputStream();
        sequence.writeBytes(derHeader(0x30, body.size()));
        sequence.writeBytes(body.toByteArray());
        return new PKCS8EncodedKeySpec(sequence.toByteArray());
    }

    private static byte[] derHeader(int tag, int length) {
        if (length < 0x80) {
            return new byte[] {(byte) tag, (byte) length};
        }
        byte[] octets = BigInteger.valueOf(length).toByteArray();
        int skip = octets[0] == 0 ? 1 : 0;
        byte[] header = new byte[2 + octets.length - skip];
        header[0] = (byte) tag;
        header[1] = (byte) (0x80 | (octets.length - skip));
        System.arraycopy(octets, skip, header, 2, octets.length - skip);
        return header;
    }
}
