use super::*;

fn key(b: u8) -> OprfKey {
    OprfKey::from_key(&Key::from_bytes([b; 32]))
}

/// Blinds, evaluates with `server`, finalizes against `pk`.
fn through(
    server: &OprfKey,
    pk: &PublicKey,
    values: &[(Kind, &[u8])],
) -> Result<Vec<Token>, OprfError> {
    let inputs: Vec<Vec<u8>> = values
        .iter()
        .map(|(k, v)| {
            let mut b = Vec::new();
            input(*k, v, &mut b);
            b
        })
        .collect();
    let kinds: Vec<Kind> = values.iter().map(|v| v.0).collect();
    let blinded = Blinded::new(&inputs)?;
    let answer = server.blind_evaluate(&blinded.body)?;
    blinded.finalize(&inputs, &kinds, &answer, pk)
}

#[test]
fn blinded_evaluation_equals_local_evaluation() {
    let k = key(1);
    let values: [(Kind, &[u8]); 3] =
        [(Kind::Kvnr, b"A123456780"), (Kind::Email, b"a@b.de"), (Kind::Kvnr, b"Z987654321")];
    let remote = through(&k, &k.public_key(), &values).unwrap();
    let local: Vec<Token> = values.iter().map(|(kind, v)| k.evaluate(*kind, v)).collect();
    assert_eq!(remote, local);
    assert_ne!(local[0], local[2]);
}

#[test]
fn evaluations_of_another_key_fail_verification() {
    let (a, b) = (key(1), key(2));
    assert_ne!(a.public_key(), b.public_key());
    let err = through(&b, &a.public_key(), &[(Kind::Kvnr, b"A123456780")]).unwrap_err();
    assert!(matches!(err, OprfError::Verification { .. }), "{err}");
}

#[test]
fn a_tampered_answer_fails_verification() {
    let k = key(1);
    let inputs = vec![vec![1, b'x'], vec![1, b'y']];
    let blinded = Blinded::new(&inputs).unwrap();
    let mut answer = k.blind_evaluate(&blinded.body).unwrap();
    // Swap the two evaluated elements: each is valid, the proof no longer matches.
    let (e0, e1) = (answer[..32].to_vec(), answer[32..64].to_vec());
    answer[..32].copy_from_slice(&e1);
    answer[32..64].copy_from_slice(&e0);
    let kinds = [Kind::Kvnr, Kind::Kvnr];
    assert!(blinded.finalize(&inputs, &kinds, &answer, &k.public_key()).is_err());
    assert!(blinded.finalize(&inputs, &kinds, &answer[..100], &k.public_key()).is_err());
}

#[test]
fn tokens_are_separated_by_kind_and_from_keyed_tokens() {
    let k = key(3);
    let t = k.evaluate(Kind::Kvnr, b"A123456780");
    assert_ne!(t, k.evaluate(Kind::Email, b"A123456780"));
    assert_ne!(t, Key::from_bytes([3; 32]).tokenizer().token(Kind::Kvnr, b"A123456780"));
    assert_eq!(t, key(3).evaluate(Kind::Kvnr, b"A123456780"));
    // Same OPRF output, other kind: other token.
    assert_ne!(token_of(Kind::Kvnr, &[0; 64]), token_of(Kind::Email, &[0; 64]));
}

#[test]
fn malformed_bodies_are_named_by_position() {
    let k = key(1);
    let good = Blinded::new(&[vec![1, b'x']]).unwrap().body;
    let mut body = [good.clone(), good.clone(), vec![0xff; 32]].concat();
    assert!(matches!(k.blind_evaluate(&body), Err(OprfError::BadPoint { index: 2 })));
    body.truncate(70);
    assert!(matches!(k.blind_evaluate(&body), Err(OprfError::BadLength { len: 70 })));
    assert!(matches!(k.blind_evaluate(&[]), Err(OprfError::Empty)));
    // The identity (all zeros) is refused.
    assert!(matches!(k.blind_evaluate(&[0; 32]), Err(OprfError::BadPoint { index: 0 })));
}

#[test]
fn public_key_names_the_filter_key_id_and_check_key() {
    let pk = key(1).public_key();
    assert_eq!(pk.id(), key(1).public_key().id());
    assert_ne!(pk.id(), key(2).public_key().id());
    assert_ne!(pk.check_key()[..16], pk.id()[..]);
    assert!(PublicKey([0xff; 32]).element().is_err());
}
