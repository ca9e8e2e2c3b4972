"""Test support that ships with the package.

Contract suites: a new tuner, assessor, store or pool gets the whole suite by subclassing one class
(``tuner_contract.TunerContract``, ``assessor_contract.AssessorContract``,
``store_contract.StoreContract``, ``pool_contract.PoolContract``). ``fake_pool.FakePool`` lets a test
script each job's end to unit-test the run loop; ``scripted``, ``spaces`` and ``waiting`` hold shared
test tuners, spaces and a wait helper.
"""
