from core.crypto import FieldCipher, mask_id_number, mask_phone


def test_round_trip_and_lookup_hash():
    cipher = FieldCipher("k1")
    token = cipher.encrypt("11010519491231002X")
    assert "1949" not in token
    assert cipher.decrypt(token) == "11010519491231002X"
    assert cipher.encrypt("11010519491231002X") != token  # random nonce
    assert cipher.lookup_hash("11010519491231002x") == cipher.lookup_hash("11010519491231002X")
    assert FieldCipher("k2").lookup_hash("11010519491231002X") != cipher.lookup_hash("11010519491231002X")


def test_masks():
    assert mask_id_number("11010519491231002X") == "110105********002X"
    assert mask_phone("13812345678") == "138****5678"
    assert mask_id_number(None) == "" and mask_phone("") == ""
